package publish

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"adly/pkg/event"
	"adly/pkg/keyspace"
)

// budgetKeyTTL is how long a minute's new-path count lives: past its minute, with room for clocks that
// differ a little.
const budgetKeyTTL = 2 * 60 * 1000 // ms

// scriptCall is one call of publish.lua: the events of a flush whose keys live in one hash slot. With
// sharded names there is one call per shard the flush reaches, its keys in the shard's slot; against a
// single node without shards every event of a flush goes in one call; against a cluster with untagged
// names, one call per slot.
type scriptCall struct {
	cutoffMs int64
	slot     uint16 // the call's hash slot (cluster or shards only)
	tag      string // the slot's hash tag (cluster or shards only)
	receipt  string // set by publish.lua when the call runs (receipt.lua reads it)
	keys     []string
	nx       int
	// runs of consecutive entries that share one ts: (ts, count) pairs. Events of one request share their ts,
	// and so, but at a second's boundary, do the requests of one flush: one ts argument per run, not per entry.
	// A special entry (invalid traffic, an event_id, or a budgeted request's) is a run of its own, count 0.
	runs      []any
	lastTS    int64
	lastPlain bool // the last run is of plain entries, so a plain entry with its ts may join it
	adIDs     []any
	specials  []any // ivt, event-id index for each special entry
	args      []any // laid out by finish
	// where each XADD entry's ID goes: refs[k] is the k-th entry's caller and event index.
	refs []ref

	hitKeys []string
	hitIdx  map[string]int // hit key -> its 1-based index
	eidKeys []string
	eidIdx  map[string]int // event-id key -> its 1-based index
	// group0 holds the requests that are never refused; groups[g-1] is group g, one budgeted request.
	group0  callGroup
	groups  []*callGroup
	groupNo map[*pending]int
	budget  int    // the new-path budget, when a budgeted request has hits in this call
	newKey  string // the budget's key then
	minute  int64  // and the Unix minute it counts

	// the requests it carries part of, each once (only when a flush may make several calls)
	members []*pending

	cmd  *redis.Cmd
	wait *redis.Cmd // WAIT after it, on the same connection (WaitReplicas > 0)
	// from the reply
	refused []int // groups refused for the new-path budget
	dups    int   // events not written again: their event_id was remembered
	// what became of it (flush)
	state  callState
	reason string // why it failed or was not confirmed, as adly_api_redis_errors_total counts it
	err    error  // the error of a call that did not run, may have run, or was not replicated
	lost   bool   // its reply was lost and its receipt says it ran
}

// callGroup is a group of publish.lua: its special entries and hit items.
type callGroup struct {
	pd       *pending
	specials int
	items    []any       // hit key index, increment, event-id index for each hit item
	agg      map[int]int // hit key index -> where its item of hits without event_id is in items
}

type ref struct {
	pd  *pending
	idx int
}

// build lays out the script calls for the calls in live. cutoffMs is on the Redis clock. Stream entries come
// first in each call, hit counters after them, as publish.lua expects.
//
// With sharded names each event goes to the call of its shard (shards.of): its stream is the shard's, its
// hit counter the path's counter tagged with the shard's tag, and the call's event-id keys, budget and
// receipt carry that tag too.
//
// With a new-path budget, every request that has hits is a group of its own in each call it reaches, so
// that publish.lua can refuse it alone; its entries come after those of the requests that are never refused
// (group 0), as publish.lua lays groups out. Without a budget every request is in group 0 and several hits on
// one path in a flush become one INCRBY.
func (p *Publisher) build(live []*pending, cutoffMs int64) []*scriptCall {
	for _, pd := range live {
		pd.ids = make([]string, len(pd.events))
		pd.tally = tally{}
	}
	budgeted := p.opts.NewPathsPerMinute > 0
	multi := p.multi()
	byKey := map[int]*scriptCall{}
	var order []*scriptCall
	// get is the call of key, which lies in shard k's slot (sharded names) or in its own slot.
	get := func(pd *pending, key string, k int) *scriptCall {
		if !p.shards.on {
			k = 0
			if p.cluster {
				k = int(keyspace.Slot(key))
			}
		}
		c, ok := byKey[k]
		if !ok {
			c = newScriptCall(cutoffMs)
			switch {
			case p.shards.on:
				c.slot, c.tag = p.shards.slots[k], p.shards.tags[k]
			case p.cluster:
				c.slot = uint16(k)
				c.tag = keyspace.SlotTag(c.slot)
			}
			byKey[k] = c
			order = append(order, c)
		}
		if multi {
			if n := len(c.members); n == 0 || c.members[n-1] != pd {
				c.members = append(c.members, pd) // repeats are dropped below
			}
		}
		return c
	}
	stream := func(pd *pending, e event.Event) (*scriptCall, string) {
		if !p.shards.on {
			key := p.names.Stream(e.Type)
			return get(pd, key, 0), key
		}
		k := p.shards.of(pd, e)
		key := p.shards.stream(e.Type, k)
		return get(pd, key, k), key
	}
	grouped := func(pd *pending) bool { return budgeted && pd.hits }
	for _, pd := range live {
		if grouped(pd) {
			continue
		}
		for i, e := range pd.events {
			if e.Type != event.Hit {
				c, key := stream(pd, e)
				c.addStream(p, key, pd, i, e, 0)
			}
		}
	}
	for _, pd := range live {
		if !grouped(pd) {
			continue
		}
		for i, e := range pd.events {
			if e.Type != event.Hit {
				c, key := stream(pd, e)
				c.addStream(p, key, pd, i, e, c.groupOf(pd))
			}
		}
	}
	for _, pd := range live {
		for _, e := range pd.events {
			if e.Type == event.Hit {
				var c *scriptCall
				var key string
				if p.shards.on {
					k := p.shards.of(pd, e)
					key = p.names.TaggedHitKey(e.Path, p.shards.tags[k])
					c = get(pd, key, k)
				} else {
					key = p.names.HitKey(e.Path)
					c = get(pd, key, 0)
				}
				g := 0
				if grouped(pd) {
					g = c.groupOf(pd)
				}
				c.addHit(p, key, g, e)
			}
		}
	}
	if multi {
		// Each call's members once, and each request's parts: the calls it is in.
		for i, c := range order {
			j := 0
			for _, pd := range c.members {
				if pd.tally.mark != i+1 {
					pd.tally.mark = i + 1
					pd.tally.parts++
					c.members[j] = pd
					j++
				}
			}
			clear(c.members[j:])
			c.members = c.members[:j]
		}
	}
	var minute int64
	if budgeted {
		minute = p.minute()
	}
	for _, c := range order {
		if budgeted && c.hasBudgetedHits() {
			c.budget = p.budget()
			c.newKey = p.names.NewPaths(minute, c.tag)
			c.minute = minute
		}
		c.receipt = p.names.Receipt(p.token(), c.tag)
		c.finish(p.receiptTTL.Milliseconds(), p.opts.EventIDTTL.Milliseconds())
	}
	return order
}

func newScriptCall(cutoffMs int64) *scriptCall {
	return &scriptCall{cutoffMs: cutoffMs}
}

// group is group n of the call.
func (g *scriptCall) group(n int) *callGroup {
	if n == 0 {
		return &g.group0
	}
	return g.groups[n-1]
}

// groupOf is pd's group in this call, made on first sight.
func (g *scriptCall) groupOf(pd *pending) int {
	if n, ok := g.groupNo[pd]; ok {
		return n
	}
	if g.groupNo == nil {
		g.groupNo = map[*pending]int{}
	}
	g.groups = append(g.groups, &callGroup{pd: pd})
	n := len(g.groups)
	g.groupNo[pd] = n
	return n
}

func (g *scriptCall) hasBudgetedHits() bool {
	for _, gr := range g.groups {
		if len(gr.items) > 0 {
			return true
		}
	}
	return false
}

// addStream adds one XADD entry of group grp. A plain entry (valid traffic, no event_id, group 0) joins the
// run of the entry before it when their ts agree; any other is special, a run of its own.
func (g *scriptCall) addStream(p *Publisher, key string, pd *pending, i int, e event.Event, grp int) {
	g.keys = append(g.keys, key)
	g.adIDs = append(g.adIDs, e.AdID)
	g.refs = append(g.refs, ref{pd: pd, idx: i})
	g.nx++
	if e.ID == "" && e.Invalid == "" && grp == 0 {
		if n := len(g.runs); n > 0 && g.lastPlain && g.lastTS == pd.ts {
			g.runs[n-1] = g.runs[n-1].(int) + 1
		} else {
			g.runs = append(g.runs, pd.ts, 1)
			g.lastTS, g.lastPlain = pd.ts, true
		}
		return
	}
	g.runs = append(g.runs, pd.ts, 0)
	g.lastPlain = false
	g.specials = append(g.specials, e.Invalid, g.eventID(p, e.ID))
	g.group(grp).specials++
}

// addHit adds one hit to a path's counter, in group grp. Hits without an event_id on one path in one group
// become one increment; a hit with an event_id is an item of its own, counted unless its event_id is
// remembered.
func (g *scriptCall) addHit(p *Publisher, key string, grp int, e event.Event) {
	k, ok := g.hitIdx[key]
	if !ok {
		if g.hitIdx == nil {
			g.hitIdx = map[string]int{}
		}
		g.hitKeys = append(g.hitKeys, key)
		k = len(g.hitKeys)
		g.hitIdx[key] = k
	}
	gr := g.group(grp)
	if e.ID != "" {
		gr.items = append(gr.items, k, 1, g.eventID(p, e.ID))
		return
	}
	if at, ok := gr.agg[k]; ok {
		gr.items[at+1] = gr.items[at+1].(int) + 1
		return
	}
	if gr.agg == nil {
		gr.agg = map[int]int{}
	}
	gr.agg[k] = len(gr.items)
	gr.items = append(gr.items, k, 1, 0)
}

// eventID is the 1-based index of id's key among the call's event-id keys, 0 for no id.
func (g *scriptCall) eventID(p *Publisher, id string) int {
	if id == "" {
		return 0
	}
	key := p.names.EventID(id, g.tag)
	if j, ok := g.eidIdx[key]; ok {
		return j
	}
	if g.eidIdx == nil {
		g.eidIdx = map[string]int{}
	}
	g.eidKeys = append(g.eidKeys, key)
	g.eidIdx[key] = len(g.eidKeys)
	return len(g.eidKeys)
}

// finish lays out publish.lua's KEYS (stream entries, hit counters, event ids, the budget, the receipt) and
// ARGV. A call of plain entries and hits without event_id and without a budget, the common case, takes the
// plain layout: the header, the ts runs, the ad_ids, one increment per hit counter. Any other takes the
// extended one: a longer header, the ts runs, the ad_ids, the groups' sizes, the special entries, the hit
// items.
func (g *scriptCall) finish(receiptTTLms, eventIDTTLms int64) {
	g.keys = append(g.keys, g.hitKeys...)
	g.keys = append(g.keys, g.eidKeys...)
	if g.newKey != "" {
		g.keys = append(g.keys, g.newKey)
	}
	g.keys = append(g.keys, g.receipt)
	if len(g.specials) == 0 && len(g.eidKeys) == 0 && len(g.groups) == 0 {
		// Group 0's items are one per hit counter, in the counters' order, none with an event_id.
		g.args = make([]any, 0, 5+len(g.runs)+len(g.adIDs)+len(g.hitKeys))
		g.args = append(g.args, g.cutoffMs, g.nx, len(g.runs)/2, receiptTTLms, 0)
		g.args = append(g.args, g.runs...)
		g.args = append(g.args, g.adIDs...)
		for k := 1; k < len(g.group0.items); k += 3 {
			g.args = append(g.args, g.group0.items[k])
		}
		return
	}
	items := len(g.group0.items)
	for _, gr := range g.groups {
		items += len(gr.items)
	}
	g.args = make([]any, 0, 13+len(g.runs)+len(g.adIDs)+2*len(g.groups)+len(g.specials)+items)
	g.args = append(g.args, g.cutoffMs, g.nx, len(g.runs)/2, receiptTTLms, 1,
		len(g.hitKeys), len(g.eidKeys), len(g.groups), eventIDTTLms, g.budget, budgetKeyTTL)
	g.args = append(g.args, g.runs...)
	g.args = append(g.args, g.adIDs...)
	g.args = append(g.args, g.group0.specials, len(g.group0.items)/3)
	for _, gr := range g.groups {
		g.args = append(g.args, gr.specials, len(gr.items)/3)
	}
	g.args = append(g.args, g.specials...)
	g.args = append(g.args, g.group0.items...)
	for _, gr := range g.groups {
		g.args = append(g.args, gr.items...)
	}
}

// assign hands each XADD entry's stream ID, from the script's reply, to its caller.
func (g *scriptCall) assign() error {
	reply, err := g.cmd.Text()
	if err != nil {
		return err
	}
	return g.setIDs(reply)
}

// setIDs reads publish.lua's reply (the receipt holds the same): it hands each XADD entry's stream ID to its
// caller and notes the refused groups and the number of repeated events.
func (g *scriptCall) setIDs(reply string) error {
	joined, rest, more := strings.Cut(reply, ";")
	g.refused, g.dups = g.refused[:0], 0
	if more {
		groups, dups, ok := strings.Cut(rest, ";")
		n, err := strconv.Atoi(dups)
		if !ok || err != nil {
			return fmt.Errorf("publish script returned %q: no count of repeated events", reply)
		}
		g.dups = n
		if groups != "" {
			for s := range strings.SplitSeq(groups, ",") {
				grp, err := strconv.Atoi(s)
				if err != nil || grp < 1 || grp > len(g.groups) {
					return fmt.Errorf("publish script returned %q: no group %q", reply, s)
				}
				g.refused = append(g.refused, grp)
			}
		}
	}
	var ids []string
	if len(g.refs) > 0 {
		ids = strings.Split(joined, ",")
	} else if joined != "" {
		ids = []string{joined}
	}
	if len(ids) != len(g.refs) {
		return fmt.Errorf("publish script returned %d ids for %d entries", len(ids), len(g.refs))
	}
	for k, r := range g.refs {
		r.pd.ids[r.idx] = ids[k]
	}
	return nil
}
