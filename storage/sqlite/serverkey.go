package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/tokenmanager/tokenmanager/storage"
)

func (s *Store) ServerKeyFingerprint(ctx context.Context) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, storage.SettingServerKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", storage.ErrNotFound
	}
	return v, mapErr(err)
}

// ResealServerKey runs on the single writer: no other write of this or another process can come between the
// reading of a sealed value and the writing of its replacement.
func (s *Store) ResealServerKey(ctx context.Context, from, to string, reseal func(storage.SealedValue) ([]byte, error)) (int, error) {
	var n int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		n = 0
		var stored string
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, storage.SettingServerKey).Scan(&stored)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return mapErr(err)
		}
		if stored != from && stored != to {
			return fmt.Errorf("%w: the database's server key is neither the old nor the new one", storage.ErrConflict)
		}
		values, err := sealedValues(ctx, tx)
		if err != nil {
			return err
		}
		for _, v := range values {
			sealed, err := reseal(v)
			if err != nil {
				return err
			}
			if sealed == nil {
				continue
			}
			if err := storeSealed(ctx, tx, v, sealed); err != nil {
				return err
			}
			n++
		}
		_, err = tx.ExecContext(ctx, `UPDATE settings SET value = ? WHERE name = ?`, to, storage.SettingServerKey)
		return mapErr(err)
	})
	// A re-sealed digest password changed a user (the trigger wrote the change feed): this process's caches
	// hear of it at once, as after any change of a user.
	s.onChange.Run(ctx, err)
	return n, err
}

// sealedValues reads every sealed value; the original token key comes first when it has never been stored.
func sealedValues(ctx context.Context, tx *sql.Tx) ([]storage.SealedValue, error) {
	var out []storage.SealedValue
	var keys int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM token_keys`).Scan(&keys); err != nil {
		return nil, mapErr(err)
	}
	if keys == 0 {
		out = append(out, storage.SealedValue{Kind: storage.SealedTokenKey, ID: storage.OriginalTokenKey})
	}
	queries := []struct {
		kind storage.SealedKind
		q    string
	}{
		{storage.SealedTokenKey, `SELECT id, '', sealed FROM token_keys ORDER BY id`},
		{storage.SealedDigestPassword, `SELECT name, '', digest_secret FROM users WHERE digest_secret IS NOT NULL ORDER BY name`},
		{storage.SealedSigningKey, `SELECT id, '', sealed_private_key FROM license_products ORDER BY id`},
		{storage.SealedPowerAuthSecret, `SELECT id, activation_id, sealed_secret FROM powerauth_tokens ORDER BY id`},
		{storage.SealedOAuthKey, `SELECT id, '', sealed FROM oauth_keys ORDER BY id`},
		// The PowerAuth protocol's secrets: application secrets with master keys, activation keys, temporary keys.
		{storage.SealedPowerAuthApp, `SELECT id, '', sealed FROM powerauth_apps ORDER BY id`},
		{storage.SealedPowerAuthActivation, `SELECT activation_id, '', sealed FROM powerauth_activation_keys ORDER BY activation_id`},
		{storage.SealedPowerAuthTempKey, `SELECT id, '', sealed FROM powerauth_temp_keys ORDER BY id`},
	}
	for _, q := range queries {
		rows, err := tx.QueryContext(ctx, q.q)
		if err != nil {
			return nil, mapErr(err)
		}
		for rows.Next() {
			v := storage.SealedValue{Kind: q.kind}
			var id any
			if err := rows.Scan(&id, &v.Owner, &v.Value); err != nil {
				rows.Close()
				return nil, mapErr(err)
			}
			switch id := id.(type) {
			case int64:
				v.ID = strconv.FormatInt(id, 10)
			case string:
				v.ID = id
			case []byte:
				v.ID = string(id)
			}
			if v.Value == nil && !(q.kind == storage.SealedTokenKey && v.ID == storage.OriginalTokenKey) {
				continue
			}
			out = append(out, v)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, mapErr(err)
		}
	}
	return out, nil
}

func storeSealed(ctx context.Context, tx *sql.Tx, v storage.SealedValue, sealed []byte) error {
	var res sql.Result
	var err error
	switch v.Kind {
	case storage.SealedTokenKey:
		// The original key of an empty ring joins it as the primary key it has been all along.
		if v.ID != storage.OriginalTokenKey {
		} else if _, err = tx.ExecContext(ctx, `INSERT INTO token_keys (id, sealed, state, created_at) VALUES (?, NULL, 'primary', 0)
			ON CONFLICT (id) DO NOTHING`, v.ID); err != nil {
			return mapErr(err)
		}
		res, err = tx.ExecContext(ctx, `UPDATE token_keys SET sealed = ? WHERE id = ?`, sealed, v.ID)
	case storage.SealedDigestPassword:
		res, err = tx.ExecContext(ctx, `UPDATE users SET digest_secret = ? WHERE name = ?`, sealed, v.ID)
	case storage.SealedSigningKey:
		res, err = tx.ExecContext(ctx, `UPDATE license_products SET sealed_private_key = ? WHERE id = ?`, sealed, v.ID)
	case storage.SealedPowerAuthSecret:
		res, err = tx.ExecContext(ctx, `UPDATE powerauth_tokens SET sealed_secret = ? WHERE id = ?`, sealed, v.ID)
	case storage.SealedOAuthKey:
		res, err = tx.ExecContext(ctx, `UPDATE oauth_keys SET sealed = ? WHERE id = ?`, sealed, v.ID)
	case storage.SealedPowerAuthApp:
		res, err = tx.ExecContext(ctx, `UPDATE powerauth_apps SET sealed = ? WHERE id = ?`, sealed, v.ID)
	case storage.SealedPowerAuthActivation:
		res, err = tx.ExecContext(ctx, `UPDATE powerauth_activation_keys SET sealed = ? WHERE activation_id = ?`, sealed, v.ID)
	case storage.SealedPowerAuthTempKey:
		res, err = tx.ExecContext(ctx, `UPDATE powerauth_temp_keys SET sealed = ? WHERE id = ?`, sealed, v.ID)
	default:
		return fmt.Errorf("sqlite: no sealed values of kind %q", v.Kind)
	}
	if err != nil {
		return mapErr(err)
	}
	return requireRow(res)
}
