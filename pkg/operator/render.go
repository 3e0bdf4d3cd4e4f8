package operator

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Widths that keep every line within 100 columns.
const (
	pathWidth   = 54
	reasonWidth = 44
)

const screenTime = "2006-01-02 15:04:05"

// Render writes r as the screen scripts/inspect.sh has always shown; watch (0: none) is named in the title.
func Render(w io.Writer, r Report, watch time.Duration) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("adly inspect  %s UTC", r.Time.UTC().Format(screenTime))
	if watch > 0 {
		p("  (every %ds, Ctrl-C to stop)", int(watch/time.Second))
	}
	p("\n\n")
	renderRedis(p, r.Redis)
	p("\n")
	renderMariaDB(p, r.MariaDB)
}

type printer func(format string, a ...any)

func renderRedis(p printer, rr RedisReport) {
	p("== Redis %s  prefix '%s'\n", rr.Addr, rr.Prefix)
	if rr.Error != "" {
		p("Redis: not answering: %s\n", trunc(oneLine(rr.Error), 76))
		return
	}
	for _, k := range rr.Kinds {
		var shards []StreamReport
		for _, s := range rr.Streams {
			if s.Kind == k.Kind {
				shards = append(shards, s)
			}
		}
		if len(shards) == 1 {
			renderStream(p, shards[0])
			continue
		}
		renderShards(p, rr.Prefix, k, shards)
	}
	p("-- path hits\n")
	if h := rr.PathHits; h != nil {
		chunks := "?"
		if h.ChunksPending != nil {
			chunks = fmt.Sprint(*h.ChunksPending)
		}
		p("waiting to sync: %d counters, %d hits   parked: %d   sync chunks pending: %s\n", h.Counters, h.Hits, h.Parked, chunks)
		switch l := h.Lock; {
		case l == nil:
			p("sync lock: ?\n")
		case !l.Held:
			p("sync lock: free\n")
		case l.TTLSeconds == nil:
			p("sync lock: held by %s, no expiry\n", trunc(l.Owner, 40))
		default:
			p("sync lock: held by %s, ttl %ds\n", trunc(l.Owner, 40), *l.TTLSeconds)
		}
		if h.NonInteger > 0 {
			p("note: %d hit keys hold something other than an integer (the syncer parks them)\n", h.NonInteger)
		}
		if h.Note != "" {
			p("note: %s\n", h.Note)
		}
	}
}

func renderStream(p printer, s StreamReport) {
	switch {
	case s.Type == "" && s.Error != "":
		p("%s: TYPE failed: %s\n", s.Stream, trunc(oneLine(s.Error), 60))
	case s.Type == "none":
		p("%s: no stream yet\n", s.Stream)
	case s.Type == "stream" && s.Length == nil:
		p("%s: length ?\n  read failed: %s\n", s.Stream, trunc(oneLine(s.Error), 80))
	case s.Type == "stream":
		p("%s: length %d\n", s.Stream, *s.Length)
		if s.First != nil {
			p("  first %-20s %s   last %-20s %s\n", s.First.ID, screenTimeOf(s.First.Time), s.Last.ID, screenTimeOf(s.Last.Time))
		}
		if s.Group != nil {
			renderGroup(p, *s.Group)
		}
	default:
		p("%s: is a %s, not a stream\n", s.Stream, s.Type)
	}
	d := s.DeadLetters
	switch {
	case d.Length == nil:
		p("  dead letters (%s): ?, latest:\n", d.Stream)
	case *d.Length == 0:
		p("  dead letters (%s): 0\n", d.Stream)
	default:
		p("  dead letters (%s): %d, latest:\n", d.Stream, *d.Length)
	}
	for _, e := range d.Latest {
		p("    %s  orig %-20s %s\n", screenTimeOf(e.Time), orQ(e.OriginalID), trunc(orQ(e.Reason), reasonWidth))
	}
}

// renderShards shows a kind split over shards: one line per shard, named without the prefix the title
// shows, and the kind's total (the JSON document has each shard's group, consumers and latest dead letters
// too).
func renderShards(p printer, prefix string, k KindReport, shards []StreamReport) {
	p("%s: %d shards, group %s\n", k.Kind, k.Shards, k.Group)
	row := func(name, length, lag, pending, dead, oldest string) {
		p("  %-32s %9s %9s %8s %6s  %s\n", name, length, lag, pending, dead, oldest)
	}
	row("stream", "length", "lag", "pending", "dead", "oldest pending")
	for _, s := range shards {
		length, lag, pending, dead, oldest := "-", "-", "-", optInt(s.DeadLetters.Length), "-"
		switch {
		case s.Type == "stream" && s.Length != nil:
			length = fmt.Sprint(*s.Length)
		case s.Type == "none":
			length = "none"
		case s.Type != "":
			length = s.Type + "?"
		default:
			length = "?"
		}
		if g := s.Group; g != nil {
			switch {
			case g.Exists:
				lag, pending = optInt(g.Lag), fmt.Sprint(g.Pending)
				if o := g.OldestPending; o != nil {
					oldest = o.ID + " idle " + secs(o.IdleMs)
				}
			case g.Error != "":
				lag, pending = "?", "?"
			default:
				oldest = "no group yet"
			}
		}
		row(trunc(strings.TrimPrefix(s.Stream, prefix), 32), length, lag, pending, dead, oldest)
		for _, e := range []string{s.Error, groupError(s.Group), s.DeadLetters.Error} {
			if e != "" {
				p("    read failed: %s\n", trunc(oneLine(e), 80))
			}
		}
	}
	row("total", optInt(k.Length), optInt(k.Lag), optInt(k.Pending), optInt(k.DeadLetters), "")
}

func groupError(g *GroupReport) string {
	if g == nil {
		return ""
	}
	return g.Error
}

func renderGroup(p printer, g GroupReport) {
	if !g.Exists {
		if g.Error != "" {
			p("  group %s: cannot read: %s\n", g.Name, trunc(oneLine(g.Error), 60))
			return
		}
		p("  group %s: no group yet\n", g.Name)
		return
	}
	p("  group %s: last-delivered %s  entries-read %s  lag %s  pending %d\n", g.Name, g.LastDelivered, optInt(g.EntriesRead), optInt(g.Lag), g.Pending)
	if o := g.OldestPending; o != nil {
		age := "?"
		if o.AgeMs != nil {
			age = secs(*o.AgeMs)
		}
		p("  oldest pending %s  age %s  idle %s  delivered %dx  consumer %s\n", o.ID, age, secs(o.IdleMs), o.Deliveries, trunc(o.Consumer, 24))
	}
	if g.Error != "" {
		p("  consumers: cannot read: %s\n", trunc(oneLine(g.Error), 60))
		return
	}
	if g.ConsumersTotal == 0 {
		p("  consumers: none\n")
		return
	}
	for i, c := range g.Consumers {
		if i == maxConsumers {
			break
		}
		extra := ""
		switch {
		case c.InactiveMs == nil:
		case *c.InactiveMs == -1:
			extra = "  inactive never-read"
		default:
			extra = "  inactive " + secs(*c.InactiveMs)
		}
		p("  consumer %-28s pending %-6d idle %s%s\n", trunc(c.Name, 28), c.Pending, secs(c.IdleMs), extra)
	}
	if g.ConsumersTotal > maxConsumers {
		p("  ... and %d more consumers\n", g.ConsumersTotal-maxConsumers)
	}
}

func renderMariaDB(p printer, mr MariaDBReport) {
	p("== MariaDB %s at %s\n", mr.Database, mr.Addr)
	if mr.failure == "not answering" {
		p("MariaDB: not answering: %s\n", trunc(firstLine(mr.cause), 76))
		return
	}
	if !mr.Exists {
		p("database %s does not exist (scripts/schema.sh creates it)\n", mr.Database)
		return
	}
	if len(mr.Tables) == 0 {
		p("database %s has no tables (scripts/schema.sh applies sql/schema.sql)\n", mr.Database)
		return
	}
	when := "today"
	if !mr.Today {
		when = "day"
	}
	p("%s %s (%s)\n", when, mr.Day, mr.Timezone)
	if len(mr.MissingTables) > 0 {
		p("missing tables: %s (apply sql/schema.sql)\n", strings.Join(mr.MissingTables, " "))
	}
	if mr.failure != "" {
		p("MariaDB: query failed: %s\n", trunc(firstLine(mr.cause), 80))
		return
	}
	if a := mr.Ads; a != nil {
		row := func(a, b, c, d string) { p("%-12s %14s %12s %8s\n", a, b, c, d) }
		row("ad_id", "impressions", "clicks", "CTR %")
		for _, r := range a.Top {
			row(fmt.Sprint(r.AdID), fmt.Sprint(r.Impressions), fmt.Sprint(r.Clicks), orDash(r.ctr))
		}
		if len(a.Top) == 0 {
			p("(no counts for %s)\n", mr.Day)
		}
		t := a.Total
		row(fmt.Sprintf("total %d ads", t.Ads), fmt.Sprint(t.Impressions), fmt.Sprint(t.Clicks), orDash(t.ctr))
		for _, f := range a.Filtered { // not in the rows above
			p("%-12s %14d %12d  %s\n", "filtered", f.Impressions, f.Clicks, f.Reason)
		}
	}
	if ps := mr.Paths; ps != nil {
		for i, r := range ps.Top {
			if i == 0 {
				p("%-*s %14s  %s\n", pathWidth, "path", "hit_count", "updated_at ("+mr.Timezone+")")
			}
			upd := "-"
			if r.UpdatedAt != nil {
				upd = r.UpdatedAt.Format(screenTime)
			}
			p("%-*s %14d  %s\n", pathWidth, trunc(r.Path, pathWidth), r.HitCount, upd)
		}
		if len(ps.Top) == 0 {
			p("path_counters: no rows yet\n")
		}
		p("path_counters: %d paths, %d hits\n", ps.Paths, ps.Hits)
	}
	ledgerRows, syncRows, last := "?", "?", ""
	if mr.LedgerRows != nil {
		ledgerRows = fmt.Sprint(*mr.LedgerRows)
	}
	if s := mr.SyncLog; s != nil {
		syncRows = fmt.Sprint(s.Rows)
		if s.Last != nil {
			last = " (last " + s.Last.Format(screenTime) + ")"
		}
	}
	p("stream_ledger rows: %s   path_sync_log rows: %s%s\n", ledgerRows, syncRows, last)
}

// trunc shortens s to n characters, marking the cut.
func trunc(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-3]) + "..."
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// secs shows milliseconds as whole seconds; "?" when negative (clock skew).
func secs(ms int64) string {
	if ms < 0 {
		return "?"
	}
	return fmt.Sprintf("%ds", ms/1000)
}

func screenTimeOf(t *time.Time) string {
	if t == nil {
		return "?"
	}
	return t.UTC().Format(screenTime)
}

func optInt(v *int64) string {
	if v == nil {
		return "?"
	}
	return fmt.Sprint(*v)
}

func orQ(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
