package woocommerce

import (
	"github.com/tokenmanager/tokenmanager/server/internal/openapi"
)

// RESTOperations are the plugin's REST routes below its namespace.
var RESTOperations = []string{"activate", "validate", "deactivate", "token"}

// Describe adds the REST routes, the namespace index and admin-ajax.php to d; the answers' schemas come from
// the types the handlers encode.
func Describe(d *openapi.Doc) {
	env := d.Component("WooEnvelope", openapi.Schema(envelope{}))
	token := d.Component("WooToken", openapi.Schema(tokenResponse{}))
	wpErr := d.Component("WordPressError", openapi.Schema(wpError{}))
	fields := openapi.Object{
		"store_code":    openapi.String(),
		"sku":           openapi.String(),
		"license_key":   openapi.String(),
		"activation_id": openapi.Object{"type": []any{"integer", "string"}},
		"domain":        openapi.String(),
		"grant_type":    openapi.String(),
		"action":        openapi.Enum(openapi.String(), "license_key_activate", "license_key_validate", "license_key_deactivate"),
	}
	body := func(names ...string) openapi.Object {
		props := openapi.Object{}
		for _, n := range names {
			props[n] = fields[n]
		}
		s := openapi.Object{"type": "object", "properties": props}
		return openapi.Object{
			"application/x-www-form-urlencoded": openapi.Object{"schema": s},
			"application/json":                  openapi.Object{"schema": s},
		}
	}
	query := func(names ...string) []any {
		var out []any
		for _, n := range names {
			out = append(out, openapi.Query(n, "", fields[n].(openapi.Object)))
		}
		return out
	}
	for _, op := range RESTOperations {
		names := append(append([]string{}, restArgNames[op]...), "domain")
		ok := env
		if op == "token" {
			names = []string{"grant_type", "store_code", "sku", "license_key"}
			ok = openapi.AnyOf(token, env)
		}
		responses := openapi.Object{
			"200":     openapi.Response("the plugin's answer", ok),
			"400":     openapi.Response("WordPress's rest_missing_callback_param / rest_invalid_param, or the plugin's error", openapi.AnyOf(wpErr, env)),
			"404":     openapi.Response("no such route", wpErr),
			"default": openapi.Response("the plugin's error envelope (its status is the HTTP status)", env),
		}
		base := openapi.Object{"tags": []string{"WooCommerce"}, "summary": "License Keys for WooCommerce: " + op,
			"responses": responses, "parameters": query(names...)}
		get := clone(base)
		get["operationId"] = "woo_get_" + op
		d.Add("GET", restBase+op, get)
		post := clone(base)
		post["operationId"] = "woo_" + op
		post["requestBody"] = openapi.Object{"content": body(names...)}
		d.Add("POST", restBase+op, post)
	}
	index := openapi.Object{"tags": []string{"WooCommerce"}, "operationId": "woo_index",
		"summary": "the namespace's route index (WordPress's discovery document)",
		"responses": openapi.Object{"200": openapi.Response("routes and their arguments",
			openapi.Object{"type": "object", "required": []string{"namespace", "routes"}})}}
	d.Add("GET", indexPath, index)
	index = clone(index)
	index["operationId"] = "woo_index_slash"
	d.Add("GET", restBase, index)
	ajaxNames := []string{"action", "store_code", "sku", "license_key", "activation_id", "domain"}
	ajax := openapi.Object{"tags": []string{"WooCommerce"}, "summary": "the plugin's admin-ajax.php form (always 200)",
		"responses": openapi.Object{
			"200": openapi.Response("the plugin's answer", env),
			"400": openapi.Object{"description": "an action that is not the plugin's: WordPress's 0",
				"content": openapi.Object{"text/html": openapi.Object{"schema": openapi.String()}}},
		}}
	get := clone(ajax)
	get["operationId"] = "woo_ajax_get"
	get["parameters"] = query(ajaxNames...)
	d.Add("GET", ajaxPath, get)
	post := clone(ajax)
	post["operationId"] = "woo_ajax"
	post["requestBody"] = openapi.Object{"content": body(ajaxNames...)}
	d.Add("POST", ajaxPath, post)
}

func clone(o openapi.Object) openapi.Object {
	out := openapi.Object{}
	for k, v := range o {
		out[k] = v
	}
	return out
}
