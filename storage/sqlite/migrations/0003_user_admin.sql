-- Administrators may use the admin API over every user's tokens and sessions.
ALTER TABLE users ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
UPDATE users SET admin = 1 WHERE name = 'admin'; -- the account created on first start
