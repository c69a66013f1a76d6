package sqlite

import "testing"

// Without the auto-extension, every statement with a LIMIT ? or an ORDER BY was parsed and planned again on each
// call (see plans.go); a connection opened after the package is loaded must have the setting on.
func TestNewConnectionsKeepTheirPlans(t *testing.T) {
	if !stablePlans() {
		t.Fatal("a new SQLite connection does not have the query planner stability guarantee on")
	}
}
