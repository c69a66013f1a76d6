package cryptolens

import (
	"errors"
	"strconv"
	"strings"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/server/internal/signlimit"
)

// logCall adds a call to its vendor's web API log and counts it in the metrics, by method and result.
func (api *API) logCall(method string, c *call, err error) {
	result, _ := license.CallResult(err)
	if limited := (*signlimit.LimitedError)(nil); errors.As(err, &limited) {
		result = "throttled"
	} else if errors.Is(err, errPaymentForms) {
		result = "not_supported"
	}
	api.count(method, result)
	if c.access == nil {
		return
	}
	pid, _ := strconv.ParseInt(strings.TrimSpace(c.str("ProductId")), 10, 64)
	api.License.LogCall(c.access, license.CallRecord{Method: method, ProductID: max(pid, 0), Key: c.str("Key"),
		MachineCode: c.str("MachineCode"), FriendlyName: c.str("FriendlyName"), IP: c.clientIP, Err: err})
}

// count counts a call in the metrics; method is a path of the method table or "other", result one of
// license.CallResult's names, "throttled" or "no_such_method": a bounded set of labels.
func (api *API) count(method, result string) {
	if api.env.LicensingCall != nil {
		api.env.LicensingCall(method, result)
	}
}
