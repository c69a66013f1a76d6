package woocommerce

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// The namespace and its index route, which WordPress registers for every REST namespace.
const (
	namespace = "woo-license-keys/v1"
	indexPath = "/wp-json/" + namespace
)

// routeArg is one argument of a route as WordPress's index describes it: the schema keywords the route
// registers (description, type, default), then whether it is required.
type routeArg struct {
	name        string
	description string
	typ         string
	def         string
	required    bool
}

func (a routeArg) object() orderedObject {
	var o orderedObject
	if a.description != "" {
		o = o.add("description", a.description)
	}
	if a.typ != "" {
		o = o.add("type", a.typ)
	}
	if a.def != "" {
		o = o.add("default", a.def)
	}
	return o.add("required", a.required)
}

// routeArgs are the arguments each route checks, in its order: what restArgs enforces (required, strings,
// activation_id numeric) and the domain's default.
func routeArgs(op string) []routeArg {
	var out []routeArg
	desc := map[string]string{
		"store_code":    "The store's code.",
		"sku":           "The product's SKU in the store.",
		"license_key":   "The license key: its code, a dash and its id.",
		"activation_id": "The activation's id, as activate answered it.",
	}
	for _, name := range restArgNames[op] {
		typ := "string"
		if name == "activation_id" {
			typ = "" // numeric, checked by is_numeric rather than a schema type
		}
		out = append(out, routeArg{name: name, description: desc[name], typ: typ, required: true})
	}
	switch op {
	case "token":
		out = append(out, routeArg{name: "grant_type", description: "Always license_key.", typ: "string"},
			routeArg{name: "license_key", description: desc["license_key"], typ: "string"})
	default:
		out = append(out, routeArg{name: "domain", description: "The domain (or machine code) to activate on.", typ: "string", def: "localhost"})
	}
	return out
}

// routeIndex is WordPress's namespace index (WP_REST_Server::get_namespace_index): every route of the
// namespace with its methods and each endpoint's arguments, a self link for each route, and an up link.
func (a *API) routeIndex(w http.ResponseWriter, r *http.Request) {
	rest := a.env.Clients.BaseURL(r) + "/wp-json"
	links := func(rel, href string) orderedObject {
		return orderedObject{}.add(rel, []orderedObject{orderedObject{}.add("href", href)})
	}
	route := func(path string, methods []string, args []routeArg) orderedObject {
		argObj := orderedObject{}
		for _, a := range args {
			argObj = argObj.add(a.name, a.object())
		}
		endpoint := orderedObject{}.add("methods", methods).add("args", argObj)
		return orderedObject{}.add("namespace", namespace).add("methods", methods).
			add("endpoints", []orderedObject{endpoint}).add("_links", links("self", rest+path))
	}
	routes := orderedObject{}.add("/"+namespace, route("/"+namespace, []string{"GET"}, []routeArg{
		{name: "namespace", def: namespace}, {name: "context", def: "view"}}))
	for _, op := range []string{"activate", "validate", "deactivate", "token"} {
		p := "/" + namespace + "/" + op
		routes = routes.add(p, route(p, []string{"GET", "POST"}, routeArgs(op)))
	}
	body, err := json.Marshal(orderedObject{}.add("namespace", namespace).add("routes", routes).add("_links", links("up", rest+"/")))
	if err != nil {
		a.env.InternalError(r.Context(), err)
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	// wp_json_encode escapes slashes, as PHP's json_encode does by default; a '/' occurs only inside strings.
	body = append(bytes.ReplaceAll(body, []byte("/"), []byte(`\/`)), '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Allow", "GET")
	w.Write(body)
}

// serveIndex answers the namespace path: the index for GET (and HEAD), WordPress's rest_no_route otherwise.
func (a *API) serveIndex(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		noRoute(w)
		return
	}
	a.routeIndex(w, r)
}
