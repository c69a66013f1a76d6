package server

import (
	"net/http"
	"sync"

	"github.com/tokenmanager/tokenmanager/server/cryptolens"
	"github.com/tokenmanager/tokenmanager/server/internal/openapi"
	"github.com/tokenmanager/tokenmanager/server/woocommerce"
)

// PathOpenAPI serves the OpenAPI 3.1 description of the public JSON surfaces.
const PathOpenAPI = "/openapi.json"

// OpenAPIDocument is the OpenAPI document, built once from the surfaces' route tables and the Go types their
// handlers encode. It describes every surface, whether or not this server's configuration turns it on.
var OpenAPIDocument = sync.OnceValue(func() []byte {
	d := openapi.New()
	describeSpectrumREST(d)
	describeOAuth(d)
	describePowerAuth(d)
	cryptolens.Describe(d)
	woocommerce.Describe(d)
	b, err := d.JSON(openapi.Object{
		"title":       "tokenmanager public JSON APIs",
		"version":     "1",
		"description": "Spectrum REST token routes and verify, OAuth 2.0 for API clients, PowerAuth tokens, the Cryptolens Web API 3 and the License Keys for WooCommerce wire.",
	}, openapi.Object{
		"basic":          openapi.Object{"type": "http", "scheme": "basic"},
		"bearer":         openapi.Object{"type": "http", "scheme": "bearer"},
		"session":        openapi.Object{"type": "apiKey", "in": "cookie", "name": "SESSION"},
		"powerAuthToken": openapi.Object{"type": "apiKey", "in": "header", "name": "X-PowerAuth-Token"},
	})
	if err != nil {
		panic("openapi: " + err.Error()) // only maps, slices and strings: cannot fail
	}
	return b
})

// DocumentedPaths lists the paths the OpenAPI document describes (for tests and tools).
func DocumentedPaths() []string {
	d := openapi.New()
	describeSpectrumREST(d)
	describeOAuth(d)
	describePowerAuth(d)
	cryptolens.Describe(d)
	woocommerce.Describe(d)
	return d.Paths()
}

func (s *Server) routeOpenAPI() {
	s.mux.HandleFunc("GET "+PathOpenAPI, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=300")
		w.Write(OpenAPIDocument())
	})
}

func op(tag, id, summary string, responses openapi.Object) openapi.Object {
	return openapi.Object{"tags": []string{tag}, "operationId": id, "summary": summary, "responses": responses}
}

func with(o openapi.Object, kv ...any) openapi.Object {
	out := openapi.Object{}
	for k, v := range o {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func security(schemes ...string) []any {
	var out []any
	for _, s := range schemes {
		out = append(out, openapi.Object{s: []string{}})
	}
	return out
}

func describeSpectrumREST(d *openapi.Doc) {
	tok := d.Component("SpectrumToken", openapi.Schema(restToken{}))
	errS := d.Component("RESTError", openapi.Schema(restError{}))
	ver := d.Component("VerifyResponse", openapi.Schema(verifyResponse{}))
	ttl := openapi.PathParam("ttl", "ttlInMinutes: the token's lifetime in minutes", openapi.Integer())
	issue := openapi.Object{
		"200": openapi.Response("the token", tok),
		"400": openapi.Response("a bad or too long lifetime", errS),
		"401": openapi.Response("bad user name or password (WWW-Authenticate: Basic)", errS),
		"429": openapi.Response("too many failed sign-ins; Retry-After", errS),
		"503": openapi.Response("the database is unavailable; Retry-After", errS),
	}
	d.Add("GET", pathRESTSession, with(op("Spectrum", "spectrum_session_token",
		"a token bound to a new SESSION cookie", issue), "parameters", []any{ttl}, "security", security("basic")))
	d.Add("GET", pathRESTOpen, with(op("Spectrum", "spectrum_open_token",
		"a token not bound to a session", issue), "parameters", []any{ttl}, "security", security("basic")))
	refused := openapi.Response("no, a bad or an expired token (WWW-Authenticate: Bearer)", errS)
	d.Add("GET", pathRESTLogout, with(op("Spectrum", "spectrum_logout", "revoke the token (and its session)", openapi.Object{
		"200": openapi.Response("whose token it was", openapi.Object{"type": "object", "required": []string{"username"},
			"properties": openapi.Object{"username": openapi.String()}}),
		"401": refused, "503": openapi.Response("unavailable", errS),
	}), "security", security("bearer")))
	d.Add("GET", PathVerify, with(op("Spectrum", "spectrum_verify",
		"whether the token (with its SESSION cookie) may be used, and whose it is; sets X-Token-User and X-Token-Kind",
		openapi.Object{"200": openapi.Response("the token's owner and deadlines", ver), "401": refused,
			"503": openapi.Response("unavailable", errS)}), "security", []any{openapi.Object{"bearer": []string{}, "session": []string{}}, openapi.Object{"bearer": []string{}}}))
}

func describeOAuth(d *openapi.Doc) {
	errS := d.Component("OAuthError", openapi.Object{
		"type": "object", "required": []string{"error"},
		"properties": openapi.Object{"error": openapi.String(), "error_description": openapi.String(),
			"statusCode": openapi.Integer(), "message": openapi.String()},
	})
	// A bearer refusal without credentials carries no error code (RFC 6750 §3.1), only SkyKick's sentence.
	bearerErr := d.Component("BearerRefusal", openapi.Object{
		"type": "object",
		"properties": openapi.Object{"error": openapi.String(), "error_description": openapi.String(),
			"statusCode": openapi.Integer(), "message": openapi.String(), "Message": openapi.String()},
		"anyOf": []any{openapi.Object{"required": []string{"error"}}, openapi.Object{"required": []string{"Message"}},
			openapi.Object{"required": []string{"statusCode"}}},
	})
	tok := d.Component("OAuthToken", openapi.Schema(tokenResponse{}))
	intro := d.Component("Introspection", openapi.Schema(introspection{}))
	form := func(props openapi.Object, required ...string) openapi.Object {
		s := openapi.Object{"type": "object", "properties": props}
		if len(required) > 0 {
			s["required"] = required
		}
		return openapi.Object{"required": true, "content": openapi.Object{"application/x-www-form-urlencoded": openapi.Object{"schema": s}}}
	}
	tokenOp := func(id string) openapi.Object {
		return with(op("OAuth", id, "client credentials grant (RFC 6749 §4.4); client authentication by Basic or the body",
			openapi.Object{"200": openapi.Response("the access token", tok), "400": openapi.Response("RFC 6749 §5.2 error", errS),
				"401": openapi.Response("invalid_client", errS), "403": openapi.Response("refused", errS),
				"429": openapi.Response("rate limited; Retry-After", errS), "503": openapi.Response("unavailable", errS)}),
			"requestBody", form(openapi.Object{"grant_type": openapi.Object{"type": "string", "description": "client_credentials (others: unsupported_grant_type)"},
				"scope": openapi.String(), "client_id": openapi.String(), "client_secret": openapi.String()}, "grant_type"),
			"security", []any{openapi.Object{"basic": []string{}}, openapi.Object{}})
	}
	d.Add("POST", PathOAuthToken, tokenOp("oauth_token"))
	d.Add("POST", PathSkyKickToken, with(tokenOp("skykick_token"), "parameters",
		[]any{openapi.Header("Ocp-Apim-Subscription-Key", "the subscription key, where the client requires one")}))
	tokenForm := form(openapi.Object{"token": openapi.String(), "token_type_hint": openapi.String(),
		"client_id": openapi.String(), "client_secret": openapi.String()}, "token")
	d.Add("POST", PathOAuthRevoke, with(op("OAuth", "oauth_revoke", "revoke a token (RFC 7009)", openapi.Object{
		"200": openapi.Object{"description": "revoked, or not a token of this client"},
		"400": openapi.Response("error", errS), "401": openapi.Response("invalid_client", errS),
		"503": openapi.Response("unavailable", errS)}), "requestBody", tokenForm, "security", []any{openapi.Object{"basic": []string{}}, openapi.Object{}}))
	d.Add("POST", PathOAuthIntrospect, with(op("OAuth", "oauth_introspect", "token introspection (RFC 7662)", openapi.Object{
		"200": openapi.Response("active, with the token's claims; or only active:false", intro),
		"400": openapi.Response("error", errS), "401": openapi.Response("invalid_client", errS),
		"503": openapi.Response("unavailable", errS)}), "requestBody", tokenForm, "security", []any{openapi.Object{"basic": []string{}}, openapi.Object{}}))
	verify := op("OAuth", "oauth_verify", "whose the bearer access token is (RFC 6750); ?scope=A+B requires scopes", openapi.Object{
		"200": openapi.Response("the token's client, scope and expiry", openapi.Schema(oauthVerifyResponse{})),
		"400": openapi.Response("invalid_request", bearerErr), "401": openapi.Response("invalid_token, or no token (WWW-Authenticate: Bearer)", bearerErr),
		"403": openapi.Response("insufficient_scope", bearerErr), "503": openapi.Response("unavailable", bearerErr)})
	verify = with(verify, "parameters", []any{openapi.Query("scope", "required scopes, space-separated", openapi.String())},
		"security", security("bearer"))
	d.Add("GET", PathOAuthVerify, verify)
	d.Add("POST", PathOAuthVerify, with(verify, "operationId", "oauth_verify_post"))
	d.Add("GET", PathOAuthJWKS, op("OAuth", "oauth_jwks", "the public keys that verify JWT access tokens (RFC 7517)", openapi.Object{
		"200": openapi.Object{"description": "the JWK set", "content": openapi.Object{"application/jwk-set+json": openapi.Object{"schema": openapi.Object{
			"type": "object", "required": []string{"keys"}, "properties": openapi.Object{"keys": openapi.Object{"type": "array",
				"items": openapi.Object{"type": "object", "required": []string{"kty", "kid"}, "properties": openapi.Object{
					"kty": openapi.String(), "kid": openapi.String(), "alg": openapi.String(), "use": openapi.String()}}}}}}}},
		"404": openapi.Object{"description": "JWT access tokens are not configured"},
		"503": openapi.Response("unavailable", openapi.Schema(restError{})),
	}))
	meta := op("OAuth", "oauth_metadata", "authorization server metadata (RFC 8414)", openapi.Object{
		"200": openapi.Response("the metadata", openapi.Schema(asMetadata{})),
		"404": openapi.Object{"description": "not this issuer's path"}})
	d.Add("GET", PathOAuthMetadata, meta)
	d.Add("GET", PathOAuthMetadata+"/{path}", with(meta, "operationId", "oauth_metadata_path",
		"summary", "metadata for an issuer with a path (RFC 8414 §3)",
		"parameters", []any{openapi.PathParam("path", "the issuer's path", openapi.String())}))
}

func describePowerAuth(d *openapi.Doc) {
	paErr := d.Component("PowerAuthError", openapi.Object{"type": "object", "required": []string{"status", "responseObject"},
		"properties": openapi.Object{"status": openapi.Enum(openapi.String(), "ERROR"), "responseObject": openapi.Schema(paError{})}})
	ok := func(obj openapi.Object) openapi.Object {
		return openapi.Object{"type": "object", "required": []string{"status", "responseObject"},
			"properties": openapi.Object{"status": openapi.Enum(openapi.String(), "OK"), "responseObject": obj}}
	}
	strs := func(names ...string) openapi.Object {
		props := openapi.Object{}
		for _, n := range names {
			props[n] = openapi.String()
		}
		return openapi.Object{"type": "object", "required": names, "properties": props}
	}
	body := openapi.Object{"required": true, "content": openapi.JSONBody(openapi.Input(paRequestBody{}))}
	errors := openapi.Object{
		"400": openapi.Response("a malformed request", paErr),
		"401": openapi.Response("bad credentials, or an activation not the caller's", paErr),
		"500": openapi.Response("an error of ours", paErr),
		"503": openapi.Response("unavailable", paErr),
	}
	resp := func(desc string, schema openapi.Object) openapi.Object {
		out := with(errors, "200", openapi.Response(desc, schema))
		return out
	}
	mgmt := func(id, summary string, responses openapi.Object) openapi.Object {
		return with(op("PowerAuth", id, summary, responses), "requestBody", body, "security", security("basic"))
	}
	act := d.Component("PowerAuthActivation", openapi.Schema(paActivation{}))
	d.Add("POST", PathPowerAuthActivationCreate, mgmt("pa_activation_create", "create an activation for the caller", resp("the activation", act)))
	d.Add("POST", PathPowerAuthActivationStatus, mgmt("pa_activation_status", "an activation's status", resp("the activation", ok(act))))
	d.Add("POST", PathPowerAuthActivationRemove, mgmt("pa_activation_remove", "remove an activation", resp("removed", ok(strs("activationId")))))
	d.Add("POST", PathPowerAuthTokenCreate, mgmt("pa_token_create", "a token for an activation; the secret is shown once",
		resp("the token id and its base64 secret", strs("tokenId", "tokenSecret"))))
	d.Add("POST", PathPowerAuthTokenRemove, mgmt("pa_token_remove", "remove a token", resp("removed, or there was none", ok(strs("tokenId")))))
	verify := with(op("PowerAuth", "pa_token_verify", "whose a valid X-PowerAuth-Token header is", resp("the token's owner",
		ok(strs("tokenId", "activationId", "userId")))), "security", security("powerAuthToken"))
	d.Add("GET", PathPowerAuthTokenVerify, verify)
	d.Add("POST", PathPowerAuthTokenVerify, with(verify, "operationId", "pa_token_verify_post"))
	// The SDK's protocol: a temporary ECIES key (3.3), asked for with a JWT signed with the application secret
	// and answered with one signed by the server. The protocol variants of the calls above take ECIES envelopes
	// and signature headers, described by Wultra's documentation rather than here.
	jwt := strs("jwt")
	d.Add("POST", PathPowerAuthKeystoreCreate, with(op("PowerAuth", "pa_keystore_create", "a temporary ECIES key for the SDK",
		resp("the temporary key, as a JWT", ok(jwt))), "requestBody", openapi.Object{"required": true,
		"content": openapi.JSONBody(openapi.Object{"type": "object", "required": []string{"requestObject"},
			"properties": openapi.Object{"requestObject": jwt}})}))
}
