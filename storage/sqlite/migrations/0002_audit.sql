-- The audit log: who did what, when, from where. Never a token, password or secret.
CREATE TABLE audit_events (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	at          INTEGER NOT NULL,
	action      TEXT NOT NULL,
	outcome     TEXT NOT NULL,
	actor       TEXT NOT NULL,
	subject     TEXT NOT NULL,
	client_host TEXT NOT NULL,
	detail      TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events(at);
CREATE INDEX audit_events_subject ON audit_events(subject, at);
