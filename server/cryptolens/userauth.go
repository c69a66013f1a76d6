package cryptolens

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tokenmanager/tokenmanager/auth"
	"github.com/tokenmanager/tokenmanager/license"
	"github.com/tokenmanager/tokenmanager/storage"
)

// The userauth/ methods over the vendor's end-user accounts. Wrong passwords (Login, ChangePassword with the
// old password) and wrong reset tokens count against the sign-in throttle per client address and per account,
// the account being the vendor's user (never an operator user of the same name).

// throttleAccount names an end user for the sign-in throttle and its audit.
func throttleAccount(vendor, name string) string {
	return "enduser:" + vendor + "/" + strings.ToLower(name)
}

// guarded runs check under the sign-in throttle for the end user: refused at once while throttled, a failure
// (bad, one of license's credential errors) counted.
func (api *API) guarded(c *call, name string, bad error, check func() error) error {
	var out error
	_, err := api.env.SignIn.Authenticate(c.r, throttleAccount(c.access.VendorName(), name), func() (storage.User, error) {
		out = check()
		if errors.Is(out, bad) {
			return storage.User{}, auth.ErrBadCredentials
		}
		return storage.User{}, out
	})
	if out != nil {
		return userError(out)
	}
	return userError(err) // throttled
}

// userAuthLogin is userauth/Login: Cryptolens' answer for a token with UserAuthNormal or UserAuthAdmin, this
// server's child-token variant (appauth.go) for a parent token.
func (api *API) userAuthLogin(ctx context.Context, c *call) (any, error) {
	if c.access.Allow(license.MethodUserAuthNormal) != nil && c.access.Allow(license.MethodUserAuthAdmin) != nil {
		if err := c.access.Allow(license.MethodGetToken); err != nil {
			return nil, err
		}
		return api.userLogin(ctx, c)
	}
	name, pass := c.str("UserName"), c.str("Password")
	if c.err != nil {
		return nil, c.err
	}
	if name == "" || pass == "" {
		return nil, &messageError{msg: msgNoCredentials, err: license.ErrInvalidInput}
	}
	if len(name) > license.MaxNameLen {
		return nil, &messageError{msg: msgBadUser, err: license.ErrBadUserCredentials}
	}
	var keys []license.LicenseKeyObject
	err := api.guarded(c, name, license.ErrBadUserCredentials, func() error {
		var err error
		keys, err = api.License.LoginUser(ctx, c.access, name, pass)
		return err
	})
	if err != nil {
		return nil, err
	}
	return licenseKeysList{LicenseKeys: keys}, nil
}

func (api *API) registerUser(ctx context.Context, c *call) (any, error) {
	spec := license.RegisterSpec{Name: c.str("UserName"), Password: c.str("Password"), Email: c.str("Email"),
		CustomerID: c.customerID(false), CustomerSecret: c.str("CustomerSecret")}
	if c.err != nil {
		return nil, c.err
	}
	if spec.Name == "" || spec.Password == "" {
		return nil, &messageError{msg: msgNoCredentials, err: license.ErrInvalidInput}
	}
	u, err := api.License.RegisterUser(ctx, c.access, spec)
	api.audit(c, "enduser.register", fmt.Sprintf("user=%q customer=%d", spec.Name, u.CustomerID), err)
	return result{}, userError(err)
}

func (api *API) associateUser(ctx context.Context, c *call) (any, error) {
	name, id := c.required("UserName"), c.customerID(true)
	if c.err != nil {
		return nil, c.err
	}
	err := api.License.AssociateUser(ctx, c.access, name, id)
	api.audit(c, "enduser.associate", fmt.Sprintf("user=%q customer=%d", name, id), err)
	return result{}, userError(err)
}

func (api *API) dissociateUser(ctx context.Context, c *call) (any, error) {
	name := c.required("UserName")
	if c.err != nil {
		return nil, c.err
	}
	err := api.License.DissociateUser(ctx, c.access, name)
	api.audit(c, "enduser.dissociate", fmt.Sprintf("user=%q", name), err)
	return result{}, userError(err)
}

// userJSON is the .NET SDK's UserObj.
type userJSON struct {
	Username   string `json:"username"`
	Email      string `json:"email"`
	Created    string `json:"created"`
	CustomerID int64  `json:"customerId"`
}

type usersResult struct {
	Result  int        `json:"result"`
	Message string     `json:"message"`
	Users   []userJSON `json:"users"`
}

func (api *API) getUsers(ctx context.Context, c *call) (any, error) {
	f := license.UserFilter{Name: c.str("UserName"), Email: c.str("Email"), CustomerID: c.customerID(false)}
	if c.err != nil {
		return nil, c.err
	}
	list, err := api.License.GetUsers(ctx, c.access, f)
	if err != nil {
		return nil, userError(err)
	}
	out := usersResult{Users: make([]userJSON, 0, len(list))}
	for _, u := range list {
		out.Users = append(out.Users, userJSON{Username: u.Name, Email: u.Email, Created: isoDate(u.CreatedAt), CustomerID: u.CustomerID})
	}
	return out, nil
}

func (api *API) changePassword(ctx context.Context, c *call) (any, error) {
	pc := license.PasswordChange{Name: c.str("UserName"), NewPassword: c.str("NewPassword"), OldPassword: c.str("OldPassword"),
		ResetToken: c.str("PasswordResetToken"), AdminMode: c.bool("AdminMode")}
	if c.err != nil {
		return nil, c.err
	}
	if err := c.access.Allow(license.MethodUserAuthNormal); err != nil {
		if err := c.access.Allow(license.MethodUserAuthAdmin); err != nil {
			return nil, err
		}
	}
	if pc.Name == "" {
		return nil, &messageError{msg: msgNoCredentials, err: license.ErrInvalidInput}
	}
	if len(pc.Name) > license.MaxNameLen {
		return nil, fmt.Errorf("%w: user name of %d bytes", license.ErrInvalidInput, len(pc.Name))
	}
	mode := "old_password"
	change := func() error { return api.License.ChangePassword(ctx, c.access, pc) }
	var err error
	switch {
	case pc.AdminMode:
		mode = "admin"
		err = userError(change())
	default:
		if pc.ResetToken != "" {
			mode = "reset_token"
		}
		err = api.guarded(c, pc.Name, license.ErrPasswordNotChanged, change)
	}
	api.audit(c, "enduser.password", fmt.Sprintf("user=%q by=%s", pc.Name, mode), err)
	return result{}, err
}

type resetTokenResult struct {
	Result             int    `json:"result"`
	Message            string `json:"message"`
	PasswordResetToken string `json:"passwordResetToken"`
}

func (api *API) resetPasswordToken(ctx context.Context, c *call) (any, error) {
	name := c.required("UserName")
	if c.err != nil {
		return nil, c.err
	}
	tok, err := api.License.ResetPasswordToken(ctx, c.access, name)
	api.audit(c, "enduser.reset_token", fmt.Sprintf("user=%q", name), err)
	if err != nil {
		return nil, userError(err)
	}
	return resetTokenResult{PasswordResetToken: tok}, nil
}

func (api *API) removeUser(ctx context.Context, c *call) (any, error) {
	name := c.required("UserName")
	if c.err != nil {
		return nil, c.err
	}
	err := api.License.RemoveUser(ctx, c.access, name)
	api.audit(c, "enduser.remove", fmt.Sprintf("user=%q", name), err)
	return result{}, userError(err)
}
