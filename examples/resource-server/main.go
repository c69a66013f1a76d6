// Command resource-server is a service protected by tokenmanager's credentials through the verify package:
// any valid credential may call /whoami; /reports wants an OAuth access token granted the scope Reports.
//
//	RS_CLIENT_SECRET=… go run ./examples/resource-server --tokenmanager http://127.0.0.1:8080 \
//		--client-id resource-server --listen 127.0.0.1:9090
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/tokenmanager/tokenmanager/verify"
)

func main() {
	base := flag.String("tokenmanager", "http://127.0.0.1:8080", "base URL of the tokenmanager server")
	listen := flag.String("listen", "127.0.0.1:9090", "address to serve on")
	clientID := flag.String("client-id", "", "API client for introspecting opaque tokens (its key in $RS_CLIENT_SECRET)")
	cacheTTL := flag.Duration("cache-ttl", 10*time.Second, "how long answers of the server are reused (negative: never)")
	addrFile := flag.String("addr-file", "", "write the address served on to this file")
	flag.Parse()

	v, err := verify.New(*base, verify.Options{ClientID: *clientID, ClientSecret: os.Getenv("RS_CLIENT_SECRET"), CacheTTL: *cacheTTL})
	if err != nil {
		log.Fatal(err)
	}
	whoami := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := verify.FromContext(r.Context())
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"subject": id.Subject, "kind": id.Kind, "scopes": id.Scopes, "client": id.Client()})
	})
	mux := http.NewServeMux()
	mux.Handle("/whoami", v.Middleware(verify.Require{})(whoami))
	mux.Handle("/reports", v.Middleware(verify.Require{Scopes: []string{"Reports"}})(whoami))

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	log.Printf("resource server on http://%s, trusting %s", ln.Addr(), *base)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}
