package storage

import "context"

// Accounts is what a user's own account pages (/account/) read: the customer records of every vendor that
// link the user.
type Accounts interface {
	// ListCustomersOfUser returns every vendor's customers linked to user (Customer.User), ordered by vendor
	// and ID; none for an empty user.
	ListCustomersOfUser(ctx context.Context, user string) ([]Customer, error)
}
