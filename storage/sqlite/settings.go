package sqlite

import "context"

func (s *Store) InitSetting(ctx context.Context, name, value string) (string, error) {
	// One statement on the single writer: of two processes starting at once, the second finds the first's value.
	var stored string
	err := s.w.QueryRowContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = settings.value RETURNING value`, name, value).Scan(&stored)
	return stored, mapErr(err)
}
