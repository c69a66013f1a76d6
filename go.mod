module github.com/tokenmanager/tokenmanager

go 1.26.0

require (
	github.com/beevik/etree v1.8.1 // indirect
	github.com/go-jose/go-jose/v4 v4.1.8 // indirect
	github.com/gorilla/securecookie v1.1.2 // indirect
	github.com/gorilla/sessions v1.4.0 // indirect
	github.com/hooklift/gowsdl v0.5.0 // indirect
	github.com/mattn/go-sqlite3 v1.14.53 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

tool github.com/hooklift/gowsdl/cmd/gowsdl
