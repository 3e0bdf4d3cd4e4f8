package operator

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"

	"adly/pkg/config"
	"adly/pkg/hits"
	"adly/pkg/keyspace"
	"adly/pkg/ledger"
	"adly/pkg/mariadb"
	"adly/pkg/pathtable"
	"adly/pkg/redisconn"
	"adly/pkg/stream"
	"adly/pkg/worker"
)

// Bounds that keep one screen quick on a large keyspace or table.
const (
	scanMaxKeys    = 100000          // path-hits keys scanned at most
	scanMaxTime    = 5 * time.Second // and for at most this long
	maxConsumers   = 5               // consumers shown per group on the screen
	deadLetters    = 3               // latest dead letters shown per stream
	topRows        = 10              // ads and paths shown
	redisTimeout   = 15 * time.Second
	mariaDBTimeout = 15 * time.Second
)

// The tables inspect reads.
var inspectedTables = []string{"ad_daily_impressions", "ad_daily_clicks", "ad_daily_impressions_filtered", "ad_daily_clicks_filtered",
	"path_counters", "stream_ledger", "path_sync_log"}

// Inspector reads what inspect shows. It keeps its MariaDB connection between reports (--watch) and
// opens it again after a failure.
type Inspector struct {
	redis     redis.UniversalClient
	redisAddr string
	names     keyspace.Names
	dbCfg     config.DB
	loc       *time.Location
	now       func() time.Time

	db *sqlx.DB
}

// NewInspector returns an Inspector over the Redis client c (its address shown as redisAddr), the names
// the services use, the MariaDB of dbCfg, and the zone the workers date events in.
func NewInspector(c redis.UniversalClient, redisAddr string, names keyspace.Names, dbCfg config.DB, loc *time.Location, now func() time.Time) *Inspector {
	return &Inspector{redis: c, redisAddr: redisAddr, names: names, dbCfg: dbCfg, loc: loc, now: now}
}

// Close closes the MariaDB connection, if open.
func (in *Inspector) Close() error {
	if in.db == nil {
		return nil
	}
	err := in.db.Close()
	in.db = nil
	return err
}

// Report reads everything; day is the day of MariaDB's counts ("" for today in the Inspector's zone).
// Report.OK is false when Redis or MariaDB did not answer.
func (in *Inspector) Report(ctx context.Context, day string) Report {
	r := Report{Time: in.now().UTC()}
	rctx, cancel := context.WithTimeout(ctx, redisTimeout)
	redisOK := in.redisReport(rctx, &r.Redis)
	cancel()
	mctx, cancel := context.WithTimeout(ctx, mariaDBTimeout)
	dbOK := in.mariaDBReport(mctx, &r.MariaDB, day)
	cancel()
	r.OK = redisOK && dbOK
	return r
}

func (in *Inspector) redisReport(ctx context.Context, rr *RedisReport) bool {
	*rr = RedisReport{Addr: in.redisAddr, Prefix: in.names.Prefix(), Streams: []StreamReport{}}
	if err := redisconn.Ping(ctx, in.redis, 5*time.Second); err != nil {
		rr.Error = err.Error()
		return false
	}
	// Ages are measured on Redis's clock, the one that made the stream IDs.
	var nowMs *int64
	if t, err := redisconn.ServerTime(ctx, in.redis); err == nil {
		ms := t.UnixMilli()
		nowMs = &ms
	}
	ok := true
	rr.Kinds = []KindReport{}
	for _, k := range []struct {
		name string
		kind worker.Kind
	}{{"impressions", worker.Impressions}, {"clicks", worker.Clicks}} {
		streams := k.kind.Streams(in.names)
		kr := newKindReport(k.name, k.kind.Group(in.names), len(streams))
		for _, name := range streams {
			sr, sok := streamReport(ctx, stream.NewGroup(in.redis, name, kr.Group), nowMs)
			sr.Kind = k.name
			rr.Streams = append(rr.Streams, sr)
			kr.add(sr)
			ok = ok && sok
		}
		rr.Kinds = append(rr.Kinds, kr)
	}
	rr.PathHits = pathHitsReport(ctx, hits.NewHitCounters(in.redis, in.names))
	return ok
}

// newKindReport is the total of a kind's shards before any is added: every figure known and zero.
func newKindReport(kind, group string, shards int) KindReport {
	var length, lag, pending, dead int64
	return KindReport{Kind: kind, Group: group, Shards: shards, Length: &length, Lag: &lag, Pending: &pending, DeadLetters: &dead}
}

// add adds one shard's figures to the total; a figure some shard could not give makes the total's null.
func (k *KindReport) add(sr StreamReport) {
	sum := func(total **int64, v *int64) {
		if *total != nil && v != nil {
			**total += *v
		} else {
			*total = nil
		}
	}
	zero := int64(0)
	switch {
	case sr.Type == "none": // no stream yet: nothing in it, nothing to deliver
	case sr.Type == "stream" && sr.Group != nil && sr.Group.Exists:
		sum(&k.Length, sr.Length)
		sum(&k.Lag, sr.Group.Lag)
		sum(&k.Pending, &sr.Group.Pending)
	case sr.Type == "stream" && sr.Group != nil && sr.Group.Error == "":
		sum(&k.Length, sr.Length)
		sum(&k.Lag, sr.Length) // no group yet: every entry is still to be delivered
		sum(&k.Pending, &zero)
	default:
		sum(&k.Length, sr.Length)
		sum(&k.Lag, nil)
		sum(&k.Pending, nil)
	}
	sum(&k.DeadLetters, sr.DeadLetters.Length)
}

func streamReport(ctx context.Context, g *stream.Group, nowMs *int64) (StreamReport, bool) {
	sr := StreamReport{Stream: g.Stream()}
	ok := true
	ends, err := g.Ends(ctx)
	sr.Type = ends.Type
	switch {
	case err != nil:
		sr.Error, ok = err.Error(), false
	case ends.Type == "stream":
		sr.Length = &ends.Length
		if ends.First != "" {
			sr.First, sr.Last = entryRef(ends.First), entryRef(ends.Last)
		}
		var gok bool
		sr.Group, gok = groupReport(ctx, g, nowMs)
		ok = ok && gok
	}
	sr.DeadLetters = DeadReport{Stream: stream.DeadLetterStream(g.Stream()), Latest: []DeadLetter{}}
	n, latest, err := g.DeadLetters(ctx, deadLetters)
	if err != nil {
		sr.DeadLetters.Error, ok = err.Error(), false
	} else {
		sr.DeadLetters.Length = &n
	}
	for _, d := range latest {
		sr.DeadLetters.Latest = append(sr.DeadLetters.Latest, DeadLetter{ID: d.ID, Time: idTime(d.ID), OriginalID: d.OriginalID, Reason: d.Reason})
	}
	return sr, ok
}

func groupReport(ctx context.Context, g *stream.Group, nowMs *int64) (*GroupReport, bool) {
	gr := &GroupReport{Name: g.Name(), Consumers: []ConsumerReport{}}
	st, exists, err := g.State(ctx)
	if err != nil {
		gr.Error = err.Error()
		return gr, false
	}
	if !exists {
		return gr, true
	}
	gr.Exists, gr.LastDelivered, gr.EntriesRead, gr.Lag, gr.Pending = true, st.LastDelivered, st.EntriesRead, st.Lag, st.Pending
	if st.Pending != 0 {
		p, found, err := g.PendingHead(ctx)
		if err != nil {
			gr.Error = err.Error()
			return gr, false
		}
		if found {
			pr := &PendingReport{ID: p.ID, IdleMs: p.Idle.Milliseconds(), Deliveries: p.Deliveries, Consumer: p.Consumer}
			if ms, ok := idMs(p.ID); ok && nowMs != nil && *nowMs >= ms {
				age := *nowMs - ms
				pr.AgeMs = &age
			}
			gr.OldestPending = pr
		}
	}
	cs, err := g.ConsumerStates(ctx)
	if err != nil {
		gr.Error = err.Error()
		return gr, false
	}
	for _, c := range cs {
		cr := ConsumerReport{Name: c.Name, Pending: c.Pending, IdleMs: c.Idle.Milliseconds()}
		if c.Inactive != nil {
			ms := c.Inactive.Milliseconds()
			cr.InactiveMs = &ms
		}
		gr.Consumers = append(gr.Consumers, cr)
	}
	gr.ConsumersTotal = len(cs)
	return gr, true
}

func pathHitsReport(ctx context.Context, h *hits.HitCounters) *PathHitsReport {
	b := h.Backlog(ctx, scanMaxKeys, scanMaxTime)
	pr := &PathHitsReport{Counters: b.Counters, Hits: b.Hits, NonInteger: b.NonInteger, Parked: b.Parked, Complete: b.Stopped == ""}
	switch b.Stopped {
	case hits.StoppedFailed:
		pr.Note = "SCAN failed: " + trunc(b.Err.Error(), 60)
	case hits.StoppedKeys:
		pr.Note = fmt.Sprintf("stopped after the first %d analytics keys; there are more", b.Seen)
	case hits.StoppedTime:
		pr.Note = fmt.Sprintf("scan stopped after %ds; figures cover the keys seen so far", int(scanMaxTime.Seconds()))
	}
	if n, err := h.PendingCount(ctx); err == nil {
		pr.ChunksPending = &n
	}
	if l, err := h.Lock(ctx); err == nil {
		lr := &LockReport{Held: l.Held, Owner: l.Owner}
		if l.Held && l.TTL >= 0 {
			s := int64(l.TTL / time.Second)
			lr.TTLSeconds = &s
		}
		pr.Lock = lr
	}
	return pr
}

func (in *Inspector) mariaDBReport(ctx context.Context, mr *MariaDBReport, day string) bool {
	*mr = MariaDBReport{Addr: fmt.Sprintf("%s:%d", in.dbCfg.Host, in.dbCfg.Port), Database: in.dbCfg.Name,
		Tables: []string{}, MissingTables: []string{}, Timezone: in.loc.String()}
	fail := func(failure string, err error) bool {
		mr.failure, mr.cause = failure, err.Error()
		mr.Error = failure + ": " + mr.cause
		return false
	}
	if in.db == nil {
		db, err := mariadb.Open(ctx, in.dbCfg)
		if mariadb.IsUnknownDatabase(err) {
			return true // the screen says it does not exist
		}
		if err != nil {
			return fail("not answering", err)
		}
		in.db = db
	}
	exists, tables, err := mariadb.Schema(ctx, in.db, in.dbCfg.Name)
	if err != nil {
		// A dropped connection is opened again next time.
		_ = in.Close()
		return fail("not answering", err)
	}
	mr.Exists = exists
	if !exists || len(tables) == 0 {
		return true
	}
	mr.Tables = tables
	for _, t := range inspectedTables {
		if !slices.Contains(tables, t) {
			mr.MissingTables = append(mr.MissingTables, t)
		}
	}
	has := func(t string) bool { return slices.Contains(tables, t) }

	mr.Day, mr.Today = day, day == ""
	if mr.Today {
		mr.Day = in.now().In(in.loc).Format(time.DateOnly)
	}
	if err := in.readCounts(ctx, mr, has); err != nil {
		mr.Ads, mr.Paths, mr.LedgerRows, mr.SyncLog = nil, nil, nil, nil
		return fail("query failed", err)
	}
	return true
}

// readCounts fills the counts of the tables that exist.
func (in *Inspector) readCounts(ctx context.Context, mr *MariaDBReport, has func(string) bool) error {
	if has("ad_daily_impressions") && has("ad_daily_clicks") {
		rows, total, err := ledger.NewReader(in.db).Day(ctx, mr.Day, topRows)
		if err != nil {
			return err
		}
		ads := &AdsReport{Top: []AdRow{}, Total: AdTotal{Ads: total.Ads, Impressions: total.Impressions, Clicks: total.Clicks,
			CTRPercent: ctrValue(total.CTR.String, total.CTR.Valid), ctr: total.CTR.String}}
		for _, r := range rows {
			ads.Top = append(ads.Top, AdRow{AdID: r.AdID, Impressions: r.Impressions, Clicks: r.Clicks,
				CTRPercent: ctrValue(r.CTR.String, r.CTR.Valid), ctr: r.CTR.String})
		}
		if has("ad_daily_impressions_filtered") && has("ad_daily_clicks_filtered") {
			filtered, err := ledger.NewReader(in.db).Filtered(ctx, mr.Day)
			if err != nil {
				return err
			}
			ads.Filtered = []FilteredRow{}
			for _, f := range filtered {
				ads.Filtered = append(ads.Filtered, FilteredRow(f))
			}
		}
		mr.Ads = ads
	}
	paths := pathtable.NewPathCounts(in.db)
	if has("path_counters") {
		top, err := paths.Top(ctx, topRows)
		if err != nil {
			return err
		}
		n, h, err := paths.Totals(ctx)
		if err != nil {
			return err
		}
		pr := &PathsReport{Top: []PathRow{}, Paths: n, Hits: h}
		for _, r := range top {
			row := PathRow{Path: r.Path, HitCount: r.Hits}
			if r.UpdatedAt.Valid {
				t := r.UpdatedAt.Time.In(in.loc)
				row.UpdatedAt = &t
			}
			pr.Top = append(pr.Top, row)
		}
		mr.Paths = pr
	}
	if has("stream_ledger") {
		n, err := ledger.NewReader(in.db).LedgerRows(ctx)
		if err != nil {
			return err
		}
		mr.LedgerRows = &n
	}
	if has("path_sync_log") {
		n, last, err := paths.SyncLog(ctx)
		if err != nil {
			return err
		}
		sl := &SyncLogReport{Rows: n}
		if !last.IsZero() {
			t := last.In(in.loc)
			sl.Last = &t
		}
		mr.SyncLog = sl
	}
	return nil
}

// ctrValue is MariaDB's rounded CTR as a number.
func ctrValue(s string, valid bool) *float64 {
	if !valid {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil
	}
	return &f
}

// idMs is the first part of a stream ID: a Unix time in milliseconds.
func idMs(id string) (int64, bool) {
	ms, _, _ := strings.Cut(id, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	return n, err == nil && n >= 0
}

// idTime is the UTC time of a stream ID; nil when the ID does not carry one.
func idTime(id string) *time.Time {
	ms, ok := idMs(id)
	if !ok {
		return nil
	}
	t := time.UnixMilli(ms).UTC()
	return &t
}

func entryRef(id string) *EntryRef { return &EntryRef{ID: id, Time: idTime(id)} }
