-- Usage history: what the database keeps nowhere else (tokens are deleted when they expire), counted in memory by
-- each node and added here every minute. hour is the hour's start in Unix seconds, a bucket rather than a time,
-- the same in both backends; scope narrows a kind (a product id for license activations, '' for none). Several
-- nodes add to one row.
CREATE TABLE usage_counts (
	hour  INTEGER NOT NULL,
	kind  TEXT NOT NULL,
	scope TEXT NOT NULL DEFAULT '',
	count INTEGER NOT NULL,
	PRIMARY KEY (kind, scope, hour)
);
CREATE INDEX usage_counts_hour ON usage_counts(hour);
-- The sign-in history is read from the audit log by action and time, without scanning every token issued.
CREATE INDEX audit_events_action_at ON audit_events(action, at);
