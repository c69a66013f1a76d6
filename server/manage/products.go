package manage

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

type productView struct {
	ID           int64     `json:"id"`
	Vendor       string    `json:"vendor"`
	Name         string    `json:"name"`
	BlockExpired bool      `json:"block_expired"`
	CreatedAt    time.Time `json:"created_at"`
	// AllowActivationManagement: the customers of the product's keys free machines themselves on /account/.
	AllowActivationManagement bool `json:"allow_activation_management"`
}

func toProductView(p storage.Product) productView { // never the sealed private key
	return productView{ID: p.ID, Vendor: p.Vendor, Name: p.Name, BlockExpired: p.BlockExpired, CreatedAt: p.CreatedAt,
		AllowActivationManagement: p.AllowActivationManagement}
}

// productETag covers the signing key too: a rotation is a change a PATCH must not race.
func productETag(p storage.Product) string {
	return etagOf("product", p.ID, p.Vendor, p.Name, p.BlockExpired, string(p.PublicKey), p.AllowActivationManagement)
}

func productPath(id int64) string { return Path + "/products/" + strconv.FormatInt(id, 10) }

// licenseAccess is the principal's licensing authority, answering a failure itself.
func (a *API) licenseAccess(w http.ResponseWriter, r *http.Request, p principal) (*license.Access, bool) {
	acc, err := p.access(r.Context(), a.deps.License)
	if errors.Is(err, license.ErrNotVendor) { // the token's vendor lost the role since
		Problem(w, http.StatusForbidden, "the vendor is gone or disabled")
		return nil, false
	}
	if err != nil {
		a.failure(w, r, err)
		return nil, false
	}
	return acc, true
}

// listProducts: ?vendor=, ?name= (a part of the name, any case); paged by id.
func (a *API) listProducts(w http.ResponseWriter, r *http.Request, p principal) {
	pq, err := parsePage(r)
	if err != nil {
		Problem(w, http.StatusBadRequest, err.Error())
		return
	}
	acc, ok := a.licenseAccess(w, r, p)
	if !ok {
		return
	}
	ps, err := a.deps.License.ListProducts(r.Context(), acc)
	if err != nil {
		a.failure(w, r, err)
		return
	}
	q := r.URL.Query()
	name := strings.ToLower(q.Get("name"))
	var sel []storage.Product
	for _, pr := range ps {
		if (q.Get("vendor") == "" || pr.Vendor == q.Get("vendor")) && strings.Contains(strings.ToLower(pr.Name), name) {
			sel = append(sel, pr)
		}
	}
	pageByKey(w, r, pq, sel, func(p storage.Product) string { return fmt.Sprintf("%020d", p.ID) }, toProductView)
}

type createProductBody struct {
	Vendor       string `json:"vendor"`
	Name         string `json:"name"`
	BlockExpired bool   `json:"block_expired"`
	// AllowActivationManagement: customers free machines themselves on /account/.
	AllowActivationManagement bool `json:"allow_activation_management"`
}

func (a *API) createProduct(w http.ResponseWriter, r *http.Request, p principal) {
	var b createProductBody
	if err := a.readJSON(w, r, &b); err != nil {
		badBody(w, err)
		return
	}
	if b.Vendor == "" {
		b.Vendor = p.vendor
	}
	if b.Vendor == "" {
		Problem(w, http.StatusBadRequest, "vendor: whose product it is")
		return
	}
	if !p.sees(b.Vendor) {
		Problem(w, http.StatusNotFound, "no such vendor")
		return
	}
	acc, ok := a.licenseAccess(w, r, p)
	if !ok {
		return
	}
	pr, err := a.deps.License.CreateProduct(a.coreContext(r, p), acc, b.Vendor, license.ProductSpec{Name: b.Name, BlockExpired: b.BlockExpired,
		AllowActivationManagement: b.AllowActivationManagement})
	if err != nil {
		a.licenseError(w, r, err)
		return
	}
	w.Header().Set("Location", productPath(pr.ID))
	w.Header().Set("ETag", productETag(pr))
	writeJSON(w, http.StatusCreated, toProductView(pr))
}

// product reads the product of the path that the principal reaches; 404 for another vendor's.
func (a *API) product(w http.ResponseWriter, r *http.Request, p principal) (storage.Product, *license.Access, bool) {
	return vendorObject(a, w, r, p, a.deps.License.Product, a.licenseError)
}

func (a *API) getProduct(w http.ResponseWriter, r *http.Request, p principal) {
	pr, _, ok := a.product(w, r, p)
	if !ok {
		return
	}
	w.Header().Set("ETag", productETag(pr))
	writeJSON(w, http.StatusOK, toProductView(pr))
}

type patchProductBody struct {
	Name         *string `json:"name"`
	BlockExpired *bool   `json:"block_expired"`
	// AllowActivationManagement: customers free machines themselves on /account/.
	AllowActivationManagement *bool `json:"allow_activation_management"`
}

func (a *API) patchProduct(w http.ResponseWriter, r *http.Request, p principal) {
	pr, acc, ok := a.product(w, r, p)
	if !ok {
		return
	}
	match, ok := ifMatch(w, r)
	if !ok {
		return
	}
	var b patchProductBody
	if err := a.readJSON(w, r, &b); err != nil {
		badBody(w, err)
		return
	}
	pr, err := a.deps.License.EditProduct(r.Context(), acc, pr.ID, license.ProductEdit{Name: b.Name, BlockExpired: b.BlockExpired,
		AllowActivationManagement: b.AllowActivationManagement}, precondition(match, productETag))
	if err != nil {
		a.licenseError(w, r, err)
		return
	}
	a.record(r, p, "license.product.edit", pr.Vendor, fmt.Sprintf("product=%d name=%q block_expired=%v allow_activation_management=%v", pr.ID, pr.Name,
		pr.BlockExpired, pr.AllowActivationManagement))
	w.Header().Set("ETag", productETag(pr))
	writeJSON(w, http.StatusOK, toProductView(pr))
}

type productRemovalView struct {
	Keys        int `json:"keys"`
	Activations int `json:"activations"`
	SKUs        int `json:"woocommerce_skus"`
}

// deleteProduct: 409 while keys or SKUs remain, unless ?force=true, which removes them in the same transaction.
func (a *API) deleteProduct(w http.ResponseWriter, r *http.Request, p principal) {
	pr, acc, ok := a.product(w, r, p)
	if !ok {
		return
	}
	force, ok := queryFlag(w, r, "force")
	if !ok {
		return
	}
	rm, err := a.deps.License.DeleteProduct(r.Context(), acc, pr.ID, force)
	if err != nil {
		a.licenseError(w, r, err)
		return
	}
	a.record(r, p, "license.product.delete", pr.Vendor, fmt.Sprintf("product=%d keys=%d activations=%d skus=%d", pr.ID, rm.Keys, rm.Activations, rm.SKUs))
	writeJSON(w, http.StatusOK, productRemovalView{Keys: rm.Keys, Activations: rm.Activations, SKUs: rm.SKUs})
}

// rotateProductKey gives the product a new signing key (apps pinning the old public key reject new licenses
// until they ship the new one) and answers the product with its new ETag.
func (a *API) rotateProductKey(w http.ResponseWriter, r *http.Request, p principal) {
	pr, acc, ok := a.product(w, r, p)
	if !ok {
		return
	}
	pr, err := a.deps.License.RotateProductKey(a.coreContext(r, p), acc, pr.ID)
	if err != nil {
		a.licenseError(w, r, err)
		return
	}
	w.Header().Set("ETag", productETag(pr))
	writeJSON(w, http.StatusOK, toProductView(pr))
}

type publicKeyView struct {
	RSAKeyValue string `json:"rsa_key_value"` // what the Cryptolens SDKs take as RSAPubKey
	PEM         string `json:"pem"`
}

// productPublicKey answers both forms as JSON, or one form alone with ?format=xml or ?format=pem.
func (a *API) productPublicKey(w http.ResponseWriter, r *http.Request, p principal) {
	pr, _, ok := a.product(w, r, p)
	if !ok {
		return
	}
	pub, err := license.PublicKey(pr)
	if err != nil {
		a.failure(w, r, err)
		return
	}
	pemText, err := license.PublicKeyPEM(pub)
	if err != nil {
		a.failure(w, r, err)
		return
	}
	xml := license.PublicKeyXML(pub)
	switch r.URL.Query().Get("format") {
	case "":
		writeJSON(w, http.StatusOK, publicKeyView{RSAKeyValue: xml, PEM: pemText})
	case "xml":
		w.Header().Set("Content-Type", "application/xml")
		w.Write([]byte(xml + "\n"))
	case "pem":
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Write([]byte(pemText))
	default:
		Problem(w, http.StatusBadRequest, "format: want xml or pem (or none, for both as JSON)")
	}
}

// licenseError answers the licensing core's errors: another vendor's object is 404, as one that is not.
func (a *API) licenseError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, errStale):
		stale(w)
	case errors.Is(err, license.ErrProductNotFound), errors.Is(err, license.ErrKeyNotFound), errors.Is(err, license.ErrCustomerNotFound):
		Problem(w, http.StatusNotFound, "")
	case errors.Is(err, license.ErrNotVendor):
		Problem(w, http.StatusNotFound, "no such vendor")
	case errors.Is(err, license.ErrNotActivated):
		Problem(w, http.StatusNotFound, "no such activation")
	case errors.Is(err, license.ErrProductInUse):
		Problem(w, http.StatusConflict, strings.TrimPrefix(err.Error(), license.ErrProductInUse.Error()+": ")+" (?force=true)")
	case errors.Is(err, license.ErrKeyInUse):
		Problem(w, http.StatusConflict, strings.TrimPrefix(err.Error(), license.ErrKeyInUse.Error()+": ")+" (?force=true)")
	case errors.Is(err, license.ErrInvalidInput):
		Problem(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), license.ErrInvalidInput.Error()+": "))
	case errors.Is(err, license.ErrAccessDenied):
		Problem(w, http.StatusForbidden, "")
	default:
		a.failure(w, r, err)
	}
}
