-- Administrators may use the admin API over every user's tokens and sessions.
ALTER TABLE users ADD COLUMN admin BOOLEAN NOT NULL DEFAULT false;
UPDATE users SET admin = true WHERE name = 'admin'; -- the account created on first start
