package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"adly/pkg/event"
)

// MaxPathBytes is the longest path (and path prefix) path_counters holds.
const MaxPathBytes = 255

// Paths reports the paths with the most hits since they were first synced, those beginning with prefix
// ("" for all; its % and _ are plain characters), at most limit (1 to MaxPathsLimit), most hits first.
func (s *Store) Paths(ctx context.Context, prefix string, limit int) ([]PathRow, error) {
	if limit < 1 || limit > MaxPathsLimit {
		return nil, badf("limit=%d: use 1 to %d", limit, MaxPathsLimit)
	}
	if err := checkPath("prefix", prefix); err != nil {
		return nil, err
	}
	q := PathsQuery(prefix, limit)
	rows, err := s.db.QueryxContext(ctx, q.SQL, q.Args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", q.Name, err)
	}
	defer func() { _ = rows.Close() }()
	out := make([]PathRow, 0, limit)
	for rows.Next() {
		p, err := s.scanPath(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", q.Name, err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", q.Name, err)
	}
	return out, nil
}

// Path reports one path's row; false when path_counters has none.
func (s *Store) Path(ctx context.Context, path string) (PathRow, bool, error) {
	if path == "" {
		return PathRow{}, false, badf("path is required")
	}
	if err := checkPath("path", path); err != nil {
		return PathRow{}, false, err
	}
	q := PathQuery(path)
	p, err := s.scanPath(s.db.QueryRowxContext(ctx, q.SQL, q.Args...))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return PathRow{}, false, nil
	case err != nil:
		return PathRow{}, false, fmt.Errorf("%s: %w", q.Name, err)
	}
	return p, true, nil
}

func (s *Store) scanPath(row interface{ Scan(...any) error }) (PathRow, error) {
	var p PathRow
	var created, updated sql.NullTime
	if err := row.Scan(&p.Path, &p.Hits, &created, &updated); err != nil {
		return PathRow{}, err
	}
	p.CreatedAt, p.UpdatedAt = s.inZone(created), s.inZone(updated)
	return p, nil
}

func (s *Store) inZone(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time.In(s.loc)
	return &v
}

// checkPath refuses what path_counters cannot hold: more than 255 bytes, invalid UTF-8, control characters.
// A path need not start with "/": producers may count route names (README, "Path hits").
func checkPath(name, p string) error {
	switch {
	case len(p) > MaxPathBytes:
		return badf("%s is %d bytes long; paths have at most %d", name, len(p), MaxPathBytes)
	case !utf8.ValidString(p):
		return badf("%s is not valid UTF-8", name)
	case event.HasControl(p):
		return badf("%s contains control characters", name)
	}
	return nil
}
