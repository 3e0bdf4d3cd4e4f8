package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"

	"adly/pkg/mariadb"
	"adly/pkg/streamid"
)

// Table is one daily count table, which counts valid traffic per (ad_id, date), and the table beside it that
// counts filtered traffic per (ad_id, date, reason). Both name their count Column.
type Table struct {
	Name     string
	Column   string
	Filtered string
}

// The seed's daily tables and their filtered-traffic tables.
var (
	Impressions = Table{Name: "ad_daily_impressions", Column: "impressions", Filtered: "ad_daily_impressions_filtered"}
	Clicks      = Table{Name: "ad_daily_clicks", Column: "clicks", Filtered: "ad_daily_clicks_filtered"}
)

// Entry is one stream entry to count: its ID, its ad, its time (unix seconds), the date (YYYY-MM-DD) it
// counts for, its time's date in the batch's Zone, and the reason the API filtered it as invalid traffic (the
// entry's ivt; "" for valid traffic). Valid entries are counted in the Table's Name, filtered ones in its
// Filtered table, under their reason.
type Entry struct {
	ID     streamid.ID
	AdID   int64
	TS     int64
	Date   string
	Reason string
}

// Batch is what one commit counts.
type Batch struct {
	// Entries are the entries to count, valid or filtered traffic (poison entries are never here).
	Entries []Entry
	// Ranges are the contiguous runs of entries Redis delivered with '>' (valid or not), one [first, last]
	// per read: one ledger row covers each. Without ranges (entries re-read from the pending list or
	// reclaimed) each entry counted gets its own row.
	Ranges []Range
	// Zone is the IANA name of the zone the entries' dates are in (TIMEZONE); it is recorded with the
	// ledger rows, so that a replay knows in which zone the daily rows it clears were dated.
	Zone string
}

// Range is a contiguous run of stream entries, first and last included.
type Range struct {
	First, Last streamid.ID
}

// Result says what a commit did.
type Result struct {
	Counted    int // entries added to the daily counts, valid or filtered
	Filtered   int // of Counted, the entries of filtered traffic
	Duplicates int // entries already counted by an earlier commit, skipped
}

// Counter commits batches of one stream's consumer group into one daily table and its filtered table, exactly
// once: the upserts of both and the ledger rows recording which entries were counted are written in one
// transaction, under a per-(stream, group) lock row, and entries an existing ledger row vouches for are
// skipped. See package worker for the whole argument.
type Counter struct {
	db     *sqlx.DB
	table  Table
	stream string
	group  string
}

// NewCounter returns a Counter for stream/group into table.
func NewCounter(db *sqlx.DB, table Table, stream, group string) *Counter {
	return &Counter{db: db, table: table, stream: stream, group: group}
}

// Commit counts the batch. Deadlocks and lock-wait timeouts are retried a few times (mariadb.RetryTx; after
// the last, the error wraps mariadb.ErrRetriesExhausted); any error means nothing of the batch was committed.
func (c *Counter) Commit(ctx context.Context, b Batch) (Result, error) {
	var res Result
	err := mariadb.RetryTx(ctx, c.db, c.table.Name, c.underLock(ctx, func(tx *sqlx.Tx) error {
		var err error
		res, err = c.count(ctx, tx, b)
		return err
	}))
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

type ledgerRow struct {
	ID          uint64
	First, Last streamid.ID
}

type replay struct {
	FromDate    string
	FromMs      sql.NullInt64 // NULL for replays recorded before the zone was
	LedgerMaxID uint64
}

// count does the work of a commit in tx, which holds the lock row.
func (c *Counter) count(ctx context.Context, tx *sqlx.Tx, b Batch) (Result, error) {
	if len(b.Entries) == 0 && len(b.Ranges) == 0 {
		return Result{}, nil
	}
	lo, hi := b.bounds()
	covering, err := c.ledgerBetween(ctx, tx, lo, hi)
	if err != nil {
		return Result{}, err
	}
	replays, err := c.replays(ctx, tx)
	if err != nil {
		return Result{}, err
	}
	fresh := freshEntries(b.Entries, covering, replays)
	valid, filtered := aggregate(fresh)
	// The daily rows are shared by every shard of the kind (and the hottest rows of all), and each one
	// upserted stays locked until COMMIT: they come last, so that a commit of another shard waiting for one
	// of them waits one round trip, not the ledger's writes too. The ledger rows are this stream's alone.
	if err := c.record(ctx, tx, b, fresh); err != nil {
		return Result{}, err
	}
	nFiltered, err := c.upsertFiltered(ctx, tx, filtered)
	if err != nil {
		return Result{}, err
	}
	if err := c.upsert(ctx, tx, valid); err != nil {
		return Result{}, err
	}
	return Result{Counted: len(fresh), Filtered: nFiltered, Duplicates: len(b.Entries) - len(fresh)}, nil
}

// underLock wraps fn so that it runs after taking the (stream, group) lock row in its transaction: the
// commits, prunes and replays of one group run one at a time.
func (c *Counter) underLock(ctx context.Context, fn func(*sqlx.Tx) error) func(*sqlx.Tx) error {
	return func(tx *sqlx.Tx) error {
		if err := c.lock(ctx, tx); err != nil {
			return err
		}
		return fn(tx)
	}
}

// lock takes the (stream, group) lock row, creating it the first time.
func (c *Counter) lock(ctx context.Context, tx *sqlx.Tx) error {
	for range 2 {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM stream_locks WHERE stream = ? AND grp = ? FOR UPDATE", c.stream, c.group).Scan(&one)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("lock %s/%s: %w", c.stream, c.group, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT IGNORE INTO stream_locks (stream, grp) VALUES (?, ?)", c.stream, c.group); err != nil {
			return fmt.Errorf("create lock %s/%s: %w", c.stream, c.group, err)
		}
	}
	return fmt.Errorf("lock %s/%s: row missing after insert", c.stream, c.group)
}

func (b Batch) bounds() (lo, hi streamid.ID) {
	first := true
	widen := func(id streamid.ID) {
		if first || id.Less(lo) {
			lo = id
		}
		if first || hi.Less(id) {
			hi = id
		}
		first = false
	}
	for _, r := range b.Ranges {
		widen(r.First)
		widen(r.Last)
	}
	for _, e := range b.Entries {
		widen(e.ID)
	}
	return lo, hi
}

// ledgerBetween returns the ledger rows that overlap [lo, hi].
func (c *Counter) ledgerBetween(ctx context.Context, tx *sqlx.Tx, lo, hi streamid.ID) ([]ledgerRow, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, first_ms, first_seq, last_ms, last_seq FROM stream_ledger
		WHERE stream = ? AND grp = ?
		  AND (last_ms > ? OR (last_ms = ? AND last_seq >= ?))
		  AND (first_ms < ? OR (first_ms = ? AND first_seq <= ?))`,
		c.stream, c.group, lo.Ms, lo.Ms, lo.Seq, hi.Ms, hi.Ms, hi.Seq)
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []ledgerRow
	for rows.Next() {
		var r ledgerRow
		if err := rows.Scan(&r.ID, &r.First.Ms, &r.First.Seq, &r.Last.Ms, &r.Last.Seq); err != nil {
			return nil, fmt.Errorf("read ledger: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (c *Counter) replays(ctx context.Context, tx *sqlx.Tx) ([]replay, error) {
	var out []replay
	rows, err := tx.QueryContext(ctx, "SELECT DATE_FORMAT(from_date, '%Y-%m-%d'), from_ms, ledger_max_id FROM stream_replays WHERE stream = ? AND grp = ?", c.stream, c.group)
	if err != nil {
		return nil, fmt.Errorf("read replays: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var r replay
		if err := rows.Scan(&r.FromDate, &r.FromMs, &r.LedgerMaxID); err != nil {
			return nil, fmt.Errorf("read replays: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// freshEntries are the entries no ledger row vouches for, each once: a batch may hold one entry twice when a
// replay moved the group back while its consumer still held a read it had not committed, and the consumer
// read the entry again into the same merged transaction.
func freshEntries(entries []Entry, covering []ledgerRow, replays []replay) []Entry {
	fresh := make([]Entry, 0, len(entries))
	// Reads arrive in stream order, so a batch holds an ID twice only if its IDs do not strictly increase
	// (a replay moved the group back between two reads): only then is a set needed.
	var seen map[streamid.ID]struct{}
	for i := 1; i < len(entries); i++ {
		if !entries[i-1].ID.Less(entries[i].ID) {
			seen = make(map[streamid.ID]struct{}, len(entries))
			break
		}
	}
	for _, e := range entries {
		if seen != nil {
			if _, dup := seen[e.ID]; dup {
				continue
			}
			seen[e.ID] = struct{}{}
		}
		if !counted(e, covering, replays) {
			fresh = append(fresh, e)
		}
	}
	return fresh
}

// counted reports whether some ledger row vouches for e: it covers e's ID and no later replay voided it for
// e — that is, cleared the count of e's instant: e's ts is at or after the replay's from_ms. (Instants, not
// dates: a date means different instants in different zones, and a replay may follow a TIMEZONE change.
// Replays recorded before from_ms existed compare dates, as they were written.)
func counted(e Entry, covering []ledgerRow, replays []replay) bool {
	for _, r := range covering {
		if e.ID.Less(r.First) || r.Last.Less(e.ID) {
			continue
		}
		voided := false
		for _, p := range replays {
			if r.ID > p.LedgerMaxID {
				continue
			}
			if p.FromMs.Valid && e.TS*1000 >= p.FromMs.Int64 || !p.FromMs.Valid && e.Date >= p.FromDate {
				voided = true
				break
			}
		}
		if !voided {
			return true
		}
	}
	return false
}

type countKey struct {
	adID int64
	date string
}

type countRow struct {
	countKey
	n int64
}

type filteredKey struct {
	countKey
	reason string
}

type filteredRow struct {
	filteredKey
	n int64
}

// aggregate sums valid entries by (ad_id, date) and filtered ones by (ad_id, date, reason), each sorted by
// key: concurrent upserts in key order cannot deadlock. Valid entries keep the key they always had; the
// filtered sums exist only when the batch holds filtered traffic.
func aggregate(entries []Entry) ([]countRow, []filteredRow) {
	sums := make(map[countKey]int64, len(entries)/4+1)
	var fsums map[filteredKey]int64
	for _, e := range entries {
		if e.Reason == "" {
			sums[countKey{e.AdID, e.Date}]++
			continue
		}
		if fsums == nil {
			fsums = map[filteredKey]int64{}
		}
		fsums[filteredKey{countKey{e.AdID, e.Date}, e.Reason}]++
	}
	valid := make([]countRow, 0, len(sums))
	for k, n := range sums {
		valid = append(valid, countRow{k, n})
	}
	slices.SortFunc(valid, func(a, b countRow) int { return compareKeys(a.countKey, b.countKey) })
	var filtered []filteredRow
	if len(fsums) > 0 {
		filtered = make([]filteredRow, 0, len(fsums))
		for k, n := range fsums {
			filtered = append(filtered, filteredRow{k, n})
		}
		slices.SortFunc(filtered, func(a, b filteredRow) int {
			if c := compareKeys(a.countKey, b.countKey); c != 0 {
				return c
			}
			return strings.Compare(a.reason, b.reason)
		})
	}
	return valid, filtered
}

func compareKeys(a, b countKey) int {
	if a.adID != b.adID {
		if a.adID < b.adID {
			return -1
		}
		return 1
	}
	return strings.Compare(a.date, b.date)
}

const chunkRows = 2000

// upsert adds the valid counts to the daily table.
func (c *Counter) upsert(ctx context.Context, tx *sqlx.Tx, rows []countRow) error {
	return upsertRows(ctx, tx, c.table.Name, "ad_id, date", "(?,?,?)", c.table.Column, rows, func(args []any, r countRow) []any {
		return append(args, r.adID, r.date, r.n)
	})
}

// upsertFiltered adds the filtered counts to the filtered table and returns how many entries they sum.
func (c *Counter) upsertFiltered(ctx context.Context, tx *sqlx.Tx, rows []filteredRow) (int, error) {
	n := 0
	for _, r := range rows {
		n += int(r.n)
	}
	return n, upsertRows(ctx, tx, c.table.Filtered, "ad_id, date, reason", "(?,?,?,?)", c.table.Column, rows, func(args []any, r filteredRow) []any {
		return append(args, r.adID, r.date, r.reason, r.n)
	})
}

// upsertRows adds rows to table's column, keyed by the columns keys, with multi-row INSERT … ON DUPLICATE KEY
// UPDATE statements in the rows' order; tuple is one row's placeholders and add appends one row's values.
func upsertRows[R any](ctx context.Context, tx *sqlx.Tx, table, keys, tuple, column string, rows []R, add func([]any, R) []any) error {
	width := strings.Count(tuple, "?")
	for start := 0; start < len(rows); start += chunkRows {
		part := rows[start:min(start+chunkRows, len(rows))]
		var q strings.Builder
		q.WriteString("INSERT INTO " + table + " (" + keys + ", " + column + ") VALUES ")
		args := make([]any, 0, width*len(part))
		for i, r := range part {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString(tuple)
			args = add(args, r)
		}
		q.WriteString(" ON DUPLICATE KEY UPDATE " + column + " = " + column + " + VALUES(" + column + ")")
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("upsert %s: %w", table, err)
		}
	}
	return nil
}

// record writes the ledger rows for the batch: one per contiguous run, else one per entry counted now
// (entries skipped as duplicates are already vouched for).
func (c *Counter) record(ctx context.Context, tx *sqlx.Tx, b Batch, fresh []Entry) error {
	ranges := b.Ranges
	if len(ranges) == 0 {
		ranges = make([]Range, 0, len(fresh))
		for _, e := range fresh {
			ranges = append(ranges, Range{e.ID, e.ID})
		}
	}
	for start := 0; start < len(ranges); start += chunkRows {
		part := ranges[start:min(start+chunkRows, len(ranges))]
		var q strings.Builder
		q.WriteString("INSERT INTO stream_ledger (stream, grp, first_ms, first_seq, last_ms, last_seq, zone) VALUES ")
		args := make([]any, 0, 7*len(part))
		for i, r := range part {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(?,?,?,?,?,?,?)")
			args = append(args, c.stream, c.group, r.First.Ms, r.First.Seq, r.Last.Ms, r.Last.Seq, b.Zone)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("record ledger: %w", err)
		}
	}
	return nil
}

// Prune deletes ledger rows that lie wholly below the point safe() returns — the oldest entry the group
// could still deliver (its oldest pending entry, or the one after its last delivered). safe is called under
// the lock, so no commit or replay moves the group meanwhile. ok=false skips pruning.
func (c *Counter) Prune(ctx context.Context, safe func(context.Context) (streamid.ID, bool, error)) (int64, error) {
	var n int64
	err := mariadb.InTx(ctx, c.db, "prune", c.underLock(ctx, func(tx *sqlx.Tx) error {
		point, ok, err := safe(ctx)
		if err != nil || !ok {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM stream_ledger WHERE stream = ? AND grp = ?
		AND (last_ms < ? OR (last_ms = ? AND last_seq < ?))`, c.stream, c.group, point.Ms, point.Ms, point.Seq)
		if err != nil {
			return fmt.Errorf("prune ledger: %w", err)
		}
		n, _ = res.RowsAffected()
		// A replay matters only while ledger rows it voids remain.
		if _, err := tx.ExecContext(ctx, `DELETE FROM stream_replays WHERE stream = ? AND grp = ? AND ledger_max_id <
		COALESCE((SELECT MIN(id) FROM stream_ledger WHERE stream = ? AND grp = ?), 18446744073709551615)`,
			c.stream, c.group, c.stream, c.group); err != nil {
			return fmt.Errorf("prune replays: %w", err)
		}
		return nil
	}))
	if err != nil {
		return 0, err
	}
	return n, nil
}

// ZoneHistory is what the ledger says of the zones the daily table's rows were dated in.
type ZoneHistory struct {
	// Initial are the zones of the ledger rows written before the first replay in Spans (all rows when there
	// is none), '' (rows older than zone recording) left out.
	Initial []string
	// Spans are the replays that recorded their instant and zone, oldest first.
	Spans []ZoneSpan
}

// ZoneSpan is one recorded replay: the entries from FromMs (unix milliseconds) on were recounted in Zone.
type ZoneSpan struct {
	FromMs int64
	Zone   string
}

// ReplayPlan is what one replay does.
type ReplayPlan struct {
	ClearFrom  string // the daily rows dated this day (YYYY-MM-DD) or later are deleted
	VoidFromMs int64  // ledger rows written so far stop vouching for entries whose ts is at or after this
	Zone       string // the zone the workers recount in
}

// Cleared is what a replay deleted: rows of the daily table and of its filtered table.
type Cleared struct {
	Rows, FilteredRows int64
}

// Replay clears what plan decides from the zone history (the counts of ClearFrom on, in the daily table and in
// its filtered table alike, and the ledger's word on entries from VoidFromMs on) and calls reset (which moves
// the consumer group back) — all under the lock, committing only if plan and reset succeed. It is the replay
// of Shards{c}.
func (c *Counter) Replay(ctx context.Context, plan func(ZoneHistory) (ReplayPlan, error), reset func(context.Context, ReplayPlan) error) (Cleared, error) {
	return Shards{c}.Replay(ctx, func(_ int, h ZoneHistory) (ReplayPlan, error) { return plan(h) },
		func(ctx context.Context, _ int, p ReplayPlan) error { return reset(ctx, p) })
}

// Shards are the Counters of every shard of one kind: one stream each, the same group name, the same daily
// table and filtered table. Each shard commits and prunes alone, under its own lock row; a replay must move
// them all at once, because they count into the same rows.
type Shards []*Counter

// Replay replays every shard in one transaction: it takes every shard's lock row, in the order of the
// shards' stream names (so that two replays cannot deadlock, and a commit, which takes one lock row, waits
// for the replay or is waited for, never both); asks plan for each shard's plan from that shard's zone
// history (the plans must agree on ClearFrom: the rows of a date are every shard's); clears the daily table
// and its filtered table from ClearFrom once; records each shard's replay (its own VoidFromMs, voiding only
// its own ledger rows); and calls reset for each shard, which moves that shard's group back. It commits
// only if every plan and every reset succeeds. No shard can therefore commit between the clearing and the
// voiding of another shard's rows: the counts a recount writes come after the whole replay, and no part of
// the replay removes them. i is the shard's index in s.
func (s Shards) Replay(ctx context.Context, plan func(i int, h ZoneHistory) (ReplayPlan, error), reset func(ctx context.Context, i int, p ReplayPlan) error) (Cleared, error) {
	if len(s) == 0 {
		return Cleared{}, errors.New("replay: no shards")
	}
	order := make([]int, len(s))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(s[a].stream, s[b].stream) })
	table := s[0].table
	// The lock rows are created first, each in a statement of its own: two transactions that insert the
	// same missing row (a replay and a shard's first commit) can deadlock, and a replay is not retried.
	// The transaction below then only locks rows that exist.
	for _, c := range s {
		if _, err := c.db.ExecContext(ctx, "INSERT IGNORE INTO stream_locks (stream, grp) VALUES (?, ?)", c.stream, c.group); err != nil {
			return Cleared{}, fmt.Errorf("create lock %s/%s: %w", c.stream, c.group, err)
		}
	}
	var cleared Cleared
	err := mariadb.InTx(ctx, s[0].db, "replay", func(tx *sqlx.Tx) error {
		for _, i := range order {
			if s[i].table != table {
				return fmt.Errorf("replay: shard %s counts into %s, not %s", s[i].stream, s[i].table.Name, table.Name)
			}
			if err := s[i].lock(ctx, tx); err != nil {
				return err
			}
		}
		plans, maxIDs := make([]ReplayPlan, len(s)), make([]uint64, len(s))
		for i, c := range s {
			if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM stream_ledger WHERE stream = ? AND grp = ?", c.stream, c.group).Scan(&maxIDs[i]); err != nil {
				return fmt.Errorf("read ledger of %s: %w", c.stream, err)
			}
			h, err := c.zoneHistory(ctx, tx)
			if err != nil {
				return err
			}
			if plans[i], err = plan(i, h); err != nil {
				return err
			}
			if plans[i].ClearFrom != plans[0].ClearFrom {
				return fmt.Errorf("replay: shard %s would clear from %s, shard %s from %s", c.stream, plans[i].ClearFrom, s[0].stream, plans[0].ClearFrom)
			}
		}
		// The ledger rows voided below vouched for filtered entries as much as for valid ones: both tables'
		// counts of those dates go, or the recount would double the filtered ones.
		for _, t := range []struct {
			name string
			rows *int64
		}{{table.Name, &cleared.Rows}, {table.Filtered, &cleared.FilteredRows}} {
			res, err := tx.ExecContext(ctx, "DELETE FROM "+t.name+" WHERE date >= ?", plans[0].ClearFrom)
			if err != nil {
				return fmt.Errorf("clear %s from %s: %w", t.name, plans[0].ClearFrom, err)
			}
			*t.rows, _ = res.RowsAffected()
		}
		for i, c := range s {
			p := plans[i]
			if _, err := tx.ExecContext(ctx, "INSERT INTO stream_replays (stream, grp, from_date, from_ms, zone, ledger_max_id) VALUES (?, ?, ?, ?, ?, ?)",
				c.stream, c.group, p.ClearFrom, p.VoidFromMs, p.Zone, maxIDs[i]); err != nil {
				return fmt.Errorf("record replay of %s: %w", c.stream, err)
			}
		}
		for i := range s {
			if err := reset(ctx, i, plans[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Cleared{}, err
	}
	return cleared, nil
}

// Stream is the stream whose entries the Counter commits.
func (c *Counter) Stream() string { return c.stream }

func (c *Counter) zoneHistory(ctx context.Context, tx *sqlx.Tx) (ZoneHistory, error) {
	var h ZoneHistory
	rows, err := tx.QueryContext(ctx, "SELECT from_ms, zone, ledger_max_id FROM stream_replays WHERE stream = ? AND grp = ? AND from_ms IS NOT NULL AND zone <> '' ORDER BY id", c.stream, c.group)
	if err != nil {
		return h, fmt.Errorf("read replays: %w", err)
	}
	firstMax := uint64(1<<64 - 1)
	for rows.Next() {
		var s ZoneSpan
		var maxID uint64
		if err := rows.Scan(&s.FromMs, &s.Zone, &maxID); err != nil {
			_ = rows.Close()
			return h, fmt.Errorf("read replays: %w", err)
		}
		if len(h.Spans) == 0 {
			firstMax = maxID
		}
		h.Spans = append(h.Spans, s)
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return h, fmt.Errorf("read replays: %w", err)
	}
	if err := tx.SelectContext(ctx, &h.Initial, "SELECT DISTINCT zone FROM stream_ledger WHERE stream = ? AND grp = ? AND id <= ? AND zone <> '' ORDER BY zone",
		c.stream, c.group, firstMax); err != nil {
		return h, fmt.Errorf("read ledger zones: %w", err)
	}
	return h, nil
}

// Count is one row of a daily table.
type Count struct {
	AdID  int64  `db:"ad_id"`
	Date  string `db:"date"`
	Count int64  `db:"n"`
}

// Counts reads the whole daily table (for tests and inspection).
func (c *Counter) Counts(ctx context.Context) ([]Count, error) {
	var out []Count
	err := c.db.SelectContext(ctx, &out, "SELECT ad_id, DATE_FORMAT(date, '%Y-%m-%d') AS date, "+c.table.Column+" AS n FROM "+c.table.Name+" ORDER BY ad_id, date")
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", c.table.Name, err)
	}
	return out, nil
}

// FilteredCount is one row of a filtered table.
type FilteredCount struct {
	AdID   int64  `db:"ad_id"`
	Date   string `db:"date"`
	Reason string `db:"reason"`
	Count  int64  `db:"n"`
}

// FilteredCounts reads the whole filtered table (for tests and inspection).
func (c *Counter) FilteredCounts(ctx context.Context) ([]FilteredCount, error) {
	var out []FilteredCount
	err := c.db.SelectContext(ctx, &out, "SELECT ad_id, DATE_FORMAT(date, '%Y-%m-%d') AS date, reason, "+c.table.Column+" AS n FROM "+c.table.Filtered+" ORDER BY ad_id, date, reason")
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", c.table.Filtered, err)
	}
	return out, nil
}

// LedgerRows is the number of ledger rows of this stream and group (to watch pruning).
func (c *Counter) LedgerRows(ctx context.Context) (int64, error) {
	var n int64
	err := c.db.GetContext(ctx, &n, "SELECT COUNT(*) FROM stream_ledger WHERE stream = ? AND grp = ?", c.stream, c.group)
	return n, err
}

// Ping checks MariaDB.
func (c *Counter) Ping(ctx context.Context) error { return c.db.PingContext(ctx) }
