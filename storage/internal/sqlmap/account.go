package sqlmap

// ListCustomersOfUser is Accounts.ListCustomersOfUser's query, written with ?; rebind it with Dialect.SQL.
const ListCustomersOfUser = `SELECT ` + CustomerColumns + ` FROM license_customers WHERE user_name = ? ORDER BY vendor, id`
