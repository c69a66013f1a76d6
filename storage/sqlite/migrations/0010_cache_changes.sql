-- What nodes must drop from their in-memory caches: a token revoked, a session ended, a user changed or removed.
-- Written by triggers, so no code path (a CLI command, another node, an admin API call) can change one of those
-- records without a row here; each node reads the rows after its last one (storage.Changes) and keeps the
-- table short by deleting rows older than a few minutes. The single writer commits rows in seq order.
CREATE TABLE cache_changes (
	seq  INTEGER PRIMARY KEY AUTOINCREMENT,
	kind TEXT NOT NULL CHECK (kind IN ('token', 'session', 'user')),
	key  TEXT NOT NULL,
	at   INTEGER NOT NULL -- unix microseconds
);
CREATE INDEX cache_changes_at ON cache_changes(at);

CREATE TRIGGER tokens_revoked_cache_change AFTER UPDATE OF revoked_at ON tokens
WHEN OLD.revoked_at = 0 AND NEW.revoked_at <> 0
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('token', NEW.id, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;

CREATE TRIGGER sessions_ended_cache_change AFTER UPDATE OF ended_at ON sessions
WHEN OLD.ended_at = 0 AND NEW.ended_at <> 0
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('session', NEW.id, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;

CREATE TRIGGER users_updated_cache_change AFTER UPDATE ON users
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('user', NEW.name, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;

CREATE TRIGGER users_deleted_cache_change AFTER DELETE ON users
BEGIN
	INSERT INTO cache_changes (kind, key, at) VALUES ('user', OLD.name, CAST(unixepoch('subsec') * 1000000 AS INTEGER));
END;
