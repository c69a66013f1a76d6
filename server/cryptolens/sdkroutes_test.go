package cryptolens_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/tokenmanager/tokenmanager/server/internal/servertest"
)

// sdkRoutes are the Web API 3 routes that Cryptolens' official client SDKs call (the .NET SDK's request paths,
// with the Python, Java, Node and Go SDKs' few others), as they spell them. An app written against any of them
// must find each one here.
var sdkRoutes = []string{
	"key/Activate", "key/Deactivate", "key/GetKey", "key/CreateKey", "key/CreateTrialKey", "key/CreateKeyFromTemplate",
	"key/BlockKey", "key/UnblockKey", "key/ExtendLicense", "key/AddFeature", "key/RemoveFeature", "key/ChangeNotes",
	"key/ChangeCustomer", "key/ChangeReseller", "key/MachineLockLimit",
	"product/GetProducts", "product/GetKeys",
	"customer/AddCustomer", "customer/EditCustomer", "customer/GetCustomers", "customer/RemoveCustomer",
	"customer/GetCustomerLicenses", "customer/GetCustomerLicensesBySecret",
	"data/AddDataObject", "data/AddDataObjectToKey", "data/AddDataObjectToMachineCode",
	"data/ListDataObjects", "data/ListDataObjectsToKey", "data/ListDataObjectsToMachineCode",
	"data/RemoveDataObject", "data/RemoveDataObjectToKey", "data/RemoveDataObjectToMachineCode",
	"data/SetIntValue", "data/SetIntValueToKey", "data/SetIntValueToMachineCode",
	"data/SetStringValue", "data/SetStringValueToKey", "data/SetStringValueToMachineCode",
	"data/IncrementIntValue", "data/IncrementIntValueToKey", "data/IncrementIntValueToMachineCode",
	"data/DecrementIntValue", "data/DecrementIntValueToKey", "data/DecrementIntValueToMachineCode",
	"data/UploadValuesToKey",
	"message/GetMessages", "message/CreateMessage", "message/RemoveMessage",
	"ai/RegisterEvent", "ai/RegisterEvents", "ai/GetEvents", "ai/GetWebAPILog",
	"subscription/RecordUsage", "paymentform/CreateSession",
	"auth/KeyLock", "auth/GetChallenge", "auth/GetToken", "User/GetLicenseKeys",
	"userauth/Login", "userauth/Register", "userauth/Associate", "userauth/Dissociate", "userauth/GetUsers",
	"userauth/ChangePassword", "userauth/ResetPasswordToken", "userauth/RemoveUser",
}

// TestEverySDKRouteAnswers: each route the SDKs call is a method here, in the SDKs' spelling and in lower case,
// with and without a trailing slash (the .NET SDK sends one): a call without a token is refused as Cryptolens
// refuses it ("Unable to authenticate."), never "No such method.", and an unknown route still is.
func TestEverySDKRouteAnswers(t *testing.T) {
	if len(sdkRoutes) != 66 {
		t.Fatalf("%d SDK routes listed, want the 66 the SDKs call", len(sdkRoutes))
	}
	app := servertest.NewAppStack(t)
	for _, route := range sdkRoutes {
		for _, path := range []string{route, strings.ToLower(route) + "/"} {
			m := app.Post(t, path, url.Values{"ProductId": {"1"}, "Key": {"AAAAA-BBBBB-CCCCC-DDDDD"}})
			if m["result"] != float64(1) || m["message"] == "No such method." {
				t.Errorf("/api/%s without a token = %v, want a refusal of the caller", path, m)
			}
		}
	}
	r := servertest.Do(t, "POST", app.URL+"/api/key/NoSuchThing", "", map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if r.Status != 404 || !strings.Contains(r.Body, "No such method.") {
		t.Errorf("an unknown route = HTTP %d %s", r.Status, r.Body)
	}
}
