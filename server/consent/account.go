package consent

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/tokenmanager/tokenmanager/license"
)

// The customer's own pages: /account/ lists the licenses of every customer record linked to the signed-in
// user (license.AccountKeys), with the machines each key is activated on, and frees a machine where the key's
// product or the customer record allows it (license.FreeAccountMachine, the core of the management API's
// DELETE …/activations/{machine}). A key is shown masked but for its last block until the user asks for it
// with a button (a GET: nothing changes). Freeing is a POST with the CSRF token, answered by a 303 back to
// the page.

const (
	pathAccount = "/account/"
	pathStyle   = "/account/style.css"
)

type licenseView struct {
	GlobalID                  int64
	Vendor, Customer, Product string
	Key, Masked               string
	Revealed                  bool
	Features                  []string
	Expires                   string
	DaysLeft                  int
	Expired, Blocked, CanFree bool
	MaxMachines               int
	Machines                  []machineView
}

type machineView struct {
	Code, Short, Name, IP, Activated, Until string
	Floating                                bool
}

// stylesheet serves the pages' CSS (the CSP allows no inline style).
func (pg *Pages) stylesheet(w http.ResponseWriter, r *http.Request) {
	css, err := pageFiles.ReadFile("pages/style.css")
	if err != nil {
		pg.pageError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(css)
}

func (pg *Pages) accountPage(w http.ResponseWriter, r *http.Request) {
	d := pageData{Title: "Your licenses", Nav: "licenses"}
	user, binding := pg.pageUser(r)
	d.User, d.CSRF = user, pg.csrf().token(binding)
	show := func(d pageData, status int) { pg.renderLicenses(w, r, d, status, 0) }
	if r.Method == http.MethodPost {
		switch action, ok := pg.pagePost(w, r, d, binding, show); {
		case !ok:
		case action == "free":
			pg.freeMachine(w, r, d)
		default:
			d.Error = "Unknown action."
			show(d, http.StatusBadRequest)
		}
		return
	}
	if user == "" {
		pg.signInForm(w, r, d)
		return
	}
	if r.URL.Query().Get("done") == "freed" {
		d.Message = "The machine was freed."
	}
	reveal, _ := strconv.ParseInt(r.URL.Query().Get("reveal"), 10, 64)
	pg.renderLicenses(w, r, d, http.StatusOK, reveal)
}

// freeMachine frees the posted machine from the posted key, if the key is the user's and they may.
func (pg *Pages) freeMachine(w http.ResponseWriter, r *http.Request, d pageData) {
	f := r.PostForm
	key, _ := strconv.ParseInt(f.Get("key"), 10, 64)
	floating, _ := strconv.ParseBool(f.Get("floating"))
	ctx := license.WithClient(r.Context(), pg.env.Clients.Host(r))
	err := pg.License.FreeAccountMachine(ctx, d.User, key, f.Get("machine"), floating)
	switch {
	case err == nil:
		http.Redirect(w, r, pathAccount+"?done=freed", http.StatusSeeOther)
	case errors.Is(err, license.ErrKeyNotFound), errors.Is(err, license.ErrInvalidInput):
		d.Error = "No such license of yours."
		pg.renderLicenses(w, r, d, http.StatusNotFound, 0)
	case errors.Is(err, license.ErrAccessDenied):
		d.Error = "The vendor of this license does not let you free its machines yourself. Ask them to."
		pg.renderLicenses(w, r, d, http.StatusForbidden, 0)
	case errors.Is(err, license.ErrNotActivated):
		d.Error = "That machine is not activated on this license (any more)."
		pg.renderLicenses(w, r, d, http.StatusNotFound, 0)
	default:
		pg.pageError(w, r, err)
	}
}

// renderLicenses shows the user's licenses; reveal is the GlobalID of the key to show whole (0: none).
func (pg *Pages) renderLicenses(w http.ResponseWriter, r *http.Request, d pageData, status int, reveal int64) {
	keys, more, err := pg.License.AccountKeys(r.Context(), d.User)
	if err != nil {
		pg.pageError(w, r, err)
		return
	}
	now := pg.env.Now()
	d.View, d.More = "licenses", more
	for _, k := range keys {
		v := licenseView{GlobalID: k.Key.GlobalID, Vendor: k.Customer.Vendor, Customer: k.Customer.Name, Product: k.Product.Name,
			Key: k.Key.Key, Masked: maskKey(k.Key.Key), Revealed: k.Key.GlobalID == reveal, Expires: day(k.Key.ExpiresAt),
			DaysLeft: license.DaysLeft(k.Key, now), Expired: !k.Key.ExpiresAt.IsZero() && !now.Before(k.Key.ExpiresAt),
			Blocked: k.Blocked, CanFree: k.CanFree, MaxMachines: k.Key.MaxNoOfMachines}
		for i, on := range k.Key.Features {
			if on {
				v.Features = append(v.Features, fmt.Sprintf("F%d", i+1))
			}
		}
		for _, m := range k.Machines {
			v.Machines = append(v.Machines, machineView{Code: m.MachineCode, Short: shortCode(m.MachineCode), Name: m.FriendlyName,
				IP: m.IP, Activated: day(m.ActivatedAt), Until: day(m.FloatingExpiresAt), Floating: m.Floating})
		}
		d.Licenses = append(d.Licenses, v)
	}
	pg.render(w, status, d)
}

// maskKey hides every block of a key but the last (ABCDE-FGHIJ → •••••-FGHIJ); a key without blocks shows
// its last four characters.
func maskKey(key string) string {
	blocks := strings.Split(key, "-")
	if len(blocks) == 1 {
		if len(key) <= 4 {
			return strings.Repeat("•", len(key))
		}
		return strings.Repeat("•", len(key)-4) + key[len(key)-4:]
	}
	for i := range blocks[:len(blocks)-1] {
		blocks[i] = strings.Repeat("•", len(blocks[i]))
	}
	return strings.Join(blocks, "-")
}

// shortCode shortens a machine code (often a 64-character hash) to its first 8 and last 4 characters.
func shortCode(code string) string {
	r := []rune(code)
	if len(r) <= 16 {
		return code
	}
	return string(r[:8]) + "…" + string(r[len(r)-4:])
}
