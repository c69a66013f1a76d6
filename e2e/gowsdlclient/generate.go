package gowsdlclient

// gowsdl writes <-d>/<-p>/<-o>, i.e. ./tokenmanager/tokenmanager.go and
// ./tokenlogout/tokenlogout.go. The two WSDLs go into separate packages because
// gowsdl emits the same helper types (AnyType, AnyURI, NCName) for each.
//go:generate go tool gowsdl -d . -p tokenmanager -o tokenmanager.go ../../wsdl/TokenManagerService.wsdl
//go:generate go tool gowsdl -d . -p tokenlogout -o tokenlogout.go ../../wsdl/TokenLogoutService.wsdl

// gowsdl v0.5.0 gives the named complexType tokenInfo an XMLName tag
// ("… tokenInfo") while the field that holds it is tagged "return", so
// encoding/xml refuses every response ("name \"return\" in tag of … conflicts
// with name \"tokenInfo\" in *TokenInfo.XMLName"). Fixed upstream after v0.5.0
// (hooklift/gowsdl#224, PR #227). Delete that XMLName line and the blank line
// after it. -i.orig (suffix attached) works with both GNU and BSD sed.
//go:generate sed -i.orig -e "/ tokenInfo\"`/{N;d;}" tokenmanager/tokenmanager.go
//go:generate rm -f tokenmanager/tokenmanager.go.orig

import (
	"github.com/hooklift/gowsdl/soap"

	"github.com/tokenmanager/tokenmanager/e2e/gowsdlclient/tokenlogout"
	"github.com/tokenmanager/tokenmanager/e2e/gowsdlclient/tokenmanager"
)

// Compile-time check that the generated constructors still have the shape
// the end-to-end tests rely on.
var (
	_ tokenmanager.TokenManagerService = tokenmanager.NewTokenManagerService(soap.NewClient("", soap.WithBasicAuth("", "")))
	_ tokenlogout.TokenLogoutService   = tokenlogout.NewTokenLogoutService(soap.NewClient(""))
)
