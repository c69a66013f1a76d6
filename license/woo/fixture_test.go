package woo_test

import "github.com/tokenmanager/tokenmanager/license/licensetest"

// The licensing core under the WooCommerce layer, as license's own tests set it up: see licensetest.
type fixture = licensetest.Fixture

var newFixture = licensetest.New
