-- What nodes must drop from their in-memory caches: a token revoked, a session ended, a user changed or removed.
-- Written by triggers, so no code path (a CLI command, another node, an admin API call) can change one of those
-- records without a row here; each node reads the rows after its last one (storage.Changes) and keeps the
-- table short by deleting rows older than a few minutes. Sequence numbers are taken before commit, so a row
-- may become visible after rows with higher numbers: readers look back over a window of time (postgres.go).
CREATE TABLE cache_changes (
	seq  BIGSERIAL PRIMARY KEY,
	kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('token', 'session', 'user')),
	key  TEXT COLLATE "C" NOT NULL,
	at   TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX cache_changes_at ON cache_changes(at);

CREATE FUNCTION cache_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_TABLE_NAME = 'tokens' THEN
		INSERT INTO cache_changes (kind, key) VALUES ('token', NEW.id);
	ELSIF TG_TABLE_NAME = 'sessions' THEN
		INSERT INTO cache_changes (kind, key) VALUES ('session', NEW.id);
	ELSIF TG_OP = 'DELETE' THEN
		INSERT INTO cache_changes (kind, key) VALUES ('user', OLD.name);
	ELSE
		INSERT INTO cache_changes (kind, key) VALUES ('user', NEW.name);
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER tokens_revoked_cache_change AFTER UPDATE OF revoked_at ON tokens FOR EACH ROW
WHEN (OLD.revoked_at = '-infinity' AND NEW.revoked_at <> '-infinity') EXECUTE FUNCTION cache_change();
CREATE TRIGGER sessions_ended_cache_change AFTER UPDATE OF ended_at ON sessions FOR EACH ROW
WHEN (OLD.ended_at = '-infinity' AND NEW.ended_at <> '-infinity') EXECUTE FUNCTION cache_change();
CREATE TRIGGER users_changed_cache_change AFTER UPDATE OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION cache_change();
