// Command validate checks an Envoy configuration (YAML, read through /usr/bin/python3 with PyYAML) against
// Envoy's own v3 API: the protobuf schema (unknown or misspelt fields, wrong types) and the validation rules
// of the API (protoc-gen-validate), including the typed configs of the filters it names. It is a module of its
// own so that the service's module does not depend on Envoy's API.
//
//	cd deploy/envoy/validate && go run . ../envoy.yaml
package main

import (
	"fmt"
	"os"
	"os/exec"

	bootstrap "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
)

func main() {
	js, err := exec.Command("/usr/bin/python3", "-c", "import yaml,json,sys; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", os.Args[1]).Output()
	if err != nil {
		panic(err)
	}
	var b bootstrap.Bootstrap
	if err := (protojson.UnmarshalOptions{}).Unmarshal(js, &b); err != nil {
		fmt.Println("schema:", err)
		os.Exit(1)
	}
	if err := b.ValidateAll(); err != nil {
		fmt.Println("validate:", err)
		os.Exit(1)
	}
	// Nested typed configs are Any, which the generated validators do not open: validate them too.
	type validator interface{ ValidateAll() error }
	check := func(a *anypb.Any) {
		msg, err := a.UnmarshalNew()
		if err != nil {
			fmt.Println("typed_config:", err)
			os.Exit(1)
		}
		if v, ok := msg.(validator); ok {
			if err := v.ValidateAll(); err != nil {
				fmt.Println("validate", a.TypeUrl, err)
				os.Exit(1)
			}
		}
		if hcm, ok := msg.(*hcmv3.HttpConnectionManager); ok {
			for _, f := range hcm.HttpFilters {
				msg, err := f.GetTypedConfig().UnmarshalNew()
				if err != nil {
					fmt.Println("http filter:", err)
					os.Exit(1)
				}
				if err := msg.(validator).ValidateAll(); err != nil {
					fmt.Println("validate", f.Name, err)
					os.Exit(1)
				}
				fmt.Println("  http filter ok:", f.Name)
			}
		}
	}
	for _, l := range b.StaticResources.Listeners {
		for _, fc := range l.FilterChains {
			for _, f := range fc.Filters {
				check(f.GetTypedConfig())
				fmt.Println("  network filter ok:", f.Name)
			}
		}
	}
	fmt.Println("envoy.yaml: valid against the Envoy v3 API")
}
