package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/tokenmanager/tokenmanager/storage"
)

func (s *Store) ServerKeyFingerprint(ctx context.Context) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, storage.SettingServerKey).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", storage.ErrNotFound
	}
	return v, mapErr(err)
}

// ResealServerKey locks the settings row, the token key ring (as its writers do) and every row it re-seals, so
// no write of another node comes between the reading of a sealed value and the writing of its replacement; a
// row another node inserts meanwhile is sealed with the old key and left to the second pass.
func (s *Store) ResealServerKey(ctx context.Context, from, to string, reseal func(storage.SealedValue) ([]byte, error)) (int, error) {
	if !storable(from) || !storable(to) {
		return 0, storage.ErrConflict
	}
	var n int
	err := s.tx(ctx, func(tx pgx.Tx) error {
		n = 0
		var stored string
		err := tx.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1 FOR UPDATE`, storage.SettingServerKey).Scan(&stored)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return mapErr(err)
		}
		if stored != from && stored != to {
			return fmt.Errorf("%w: the database's server key is neither the old nor the new one", storage.ErrConflict)
		}
		if _, err := tx.Exec(ctx, lockTokenKeys); err != nil {
			return mapErr(err)
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
		_, err = tx.Exec(ctx, `UPDATE settings SET value = $1 WHERE name = $2`, to, storage.SettingServerKey)
		return mapErr(err)
	})
	// A re-sealed digest password changed a user (the trigger wrote the change feed): this process's caches
	// hear of it at once, as after any change of a user.
	s.onChange.Run(ctx, err)
	return n, err
}

// sealedValues reads (and locks) every sealed value; the original token key comes first when it has never been
// stored.
func sealedValues(ctx context.Context, tx pgx.Tx) ([]storage.SealedValue, error) {
	var out []storage.SealedValue
	var keys int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM token_keys`).Scan(&keys); err != nil {
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
		{storage.SealedDigestPassword, `SELECT name, '', digest_secret FROM users WHERE digest_secret IS NOT NULL ORDER BY name FOR UPDATE`},
		{storage.SealedSigningKey, `SELECT id::text, '', sealed_private_key FROM license_products ORDER BY id FOR UPDATE`},
		{storage.SealedPowerAuthSecret, `SELECT id, activation_id, sealed_secret FROM powerauth_tokens ORDER BY id FOR UPDATE`},
		{storage.SealedOAuthKey, `SELECT id, '', sealed FROM oauth_keys ORDER BY id FOR UPDATE`},
		// The PowerAuth protocol's secrets: application secrets with master keys, activation keys, temporary keys.
		{storage.SealedPowerAuthApp, `SELECT id, '', sealed FROM powerauth_apps ORDER BY id FOR UPDATE`},
		{storage.SealedPowerAuthActivation, `SELECT activation_id, '', sealed FROM powerauth_activation_keys ORDER BY activation_id FOR UPDATE`},
		{storage.SealedPowerAuthTempKey, `SELECT id, '', sealed FROM powerauth_temp_keys ORDER BY id FOR UPDATE`},
	}
	for _, q := range queries {
		rows, err := tx.Query(ctx, q.q)
		if err != nil {
			return nil, mapErr(err)
		}
		for rows.Next() {
			v := storage.SealedValue{Kind: q.kind}
			if err := rows.Scan(&v.ID, &v.Owner, &v.Value); err != nil {
				rows.Close()
				return nil, mapErr(err)
			}
			if v.Value == nil && !(q.kind == storage.SealedTokenKey && v.ID == storage.OriginalTokenKey) {
				continue
			}
			out = append(out, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, mapErr(err)
		}
	}
	return out, nil
}

func storeSealed(ctx context.Context, tx pgx.Tx, v storage.SealedValue, sealed []byte) error {
	var q string
	switch v.Kind {
	case storage.SealedTokenKey:
		// The original key of an empty ring joins it as the primary key it has been all along.
		if v.ID == storage.OriginalTokenKey {
			if _, err := tx.Exec(ctx, `INSERT INTO token_keys (id, sealed, state, created_at) VALUES ($1, NULL, 'primary', '-infinity')
				ON CONFLICT (id) DO NOTHING`, v.ID); err != nil {
				return mapErr(err)
			}
		}
		q = `UPDATE token_keys SET sealed = $1 WHERE id = $2`
	case storage.SealedDigestPassword:
		q = `UPDATE users SET digest_secret = $1 WHERE name = $2`
	case storage.SealedSigningKey:
		id, err := strconv.ParseInt(v.ID, 10, 64)
		if err != nil {
			return fmt.Errorf("%w: product %q", storage.ErrNotFound, v.ID)
		}
		tag, err := tx.Exec(ctx, `UPDATE license_products SET sealed_private_key = $1 WHERE id = $2`, sealed, id)
		if err == nil && tag.RowsAffected() != 1 {
			err = storage.ErrNotFound
		}
		return mapErr(err)
	case storage.SealedPowerAuthSecret:
		q = `UPDATE powerauth_tokens SET sealed_secret = $1 WHERE id = $2`
	case storage.SealedOAuthKey:
		q = `UPDATE oauth_keys SET sealed = $1 WHERE id = $2`
	case storage.SealedPowerAuthApp:
		q = `UPDATE powerauth_apps SET sealed = $1 WHERE id = $2`
	case storage.SealedPowerAuthActivation:
		q = `UPDATE powerauth_activation_keys SET sealed = $1 WHERE activation_id = $2`
	case storage.SealedPowerAuthTempKey:
		q = `UPDATE powerauth_temp_keys SET sealed = $1 WHERE id = $2`
	default:
		return fmt.Errorf("postgres: no sealed values of kind %q", v.Kind)
	}
	tag, err := tx.Exec(ctx, q, sealed, v.ID)
	if err == nil && tag.RowsAffected() != 1 {
		err = storage.ErrNotFound
	}
	return mapErr(err)
}
