package publish

import (
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"adly/pkg/event"
	"adly/pkg/keyspace"
)

// scriptCall is one call of publish.lua: the events of a flush whose keys live in one hash slot. Against a
// single node every event of a flush goes in one call; against a cluster there is one call per slot.
type scriptCall struct {
	cutoffMs int64
	slot     uint16 // the call's hash slot (cluster only)
	receipt  string // set by publish.lua when the call runs (receipt.lua reads it)
	keys     []string
	nx       int
	// runs of consecutive entries that share one ts: (ts, count) pairs. Events of one request share their ts,
	// and so, but at a second's boundary, do the requests of one flush: one ts argument per run, not per entry.
	runs   []any
	adIDs  []any
	incrs  []any
	lastTS int64
	args   []any // laid out by finish
	// where each XADD entry's ID goes: refs[k] is the k-th entry's caller and event index.
	refs []ref
	hits map[string]int // hit key -> index into incrs
	cmd  *redis.Cmd
}

type ref struct {
	pd  *pending
	idx int
}

// build lays out the script calls for the calls in live. cutoffMs is on the Redis clock. Stream entries come
// first in each call, hit counters after them, as publish.lua expects.
func (p *Publisher) build(live []*pending, cutoffMs int64) []*scriptCall {
	for _, pd := range live {
		pd.ids = make([]string, len(pd.events))
	}
	bySlot := map[uint16]*scriptCall{}
	var order []*scriptCall
	get := func(key string) *scriptCall {
		var slot uint16
		if p.cluster {
			slot = keyspace.Slot(key)
		}
		c, ok := bySlot[slot]
		if !ok {
			c = newScriptCall(cutoffMs)
			c.slot = slot
			bySlot[slot] = c
			order = append(order, c)
		}
		return c
	}
	for _, pd := range live {
		for i, e := range pd.events {
			if e.Type != event.Hit {
				key := p.names.Stream(e.Type)
				get(key).addStream(key, pd, i, e)
			}
		}
	}
	for _, pd := range live {
		for _, e := range pd.events {
			if e.Type == event.Hit {
				key := p.names.HitKey(e.Path)
				get(key).addHit(key)
			}
		}
	}
	for _, c := range order {
		tag := ""
		if p.cluster {
			tag = keyspace.SlotTag(c.slot)
		}
		c.receipt = p.names.Receipt(p.token(), tag)
		c.finish(p.receiptTTL.Milliseconds())
	}
	return order
}

func newScriptCall(cutoffMs int64) *scriptCall {
	return &scriptCall{cutoffMs: cutoffMs}
}

// addStream adds one XADD entry.
func (g *scriptCall) addStream(key string, pd *pending, i int, e event.Event) {
	g.keys = append(g.keys, key)
	g.adIDs = append(g.adIDs, e.AdID)
	if n := len(g.runs); n > 0 && g.lastTS == pd.ts {
		g.runs[n-1] = g.runs[n-1].(int) + 1
	} else {
		g.runs = append(g.runs, pd.ts, 1)
		g.lastTS = pd.ts
	}
	g.refs = append(g.refs, ref{pd: pd, idx: i})
	g.nx++
}

// addHit adds one to a path's counter; several hits on one path in a flush become one INCRBY.
func (g *scriptCall) addHit(key string) {
	if g.hits == nil {
		g.hits = map[string]int{}
	}
	if i, ok := g.hits[key]; ok {
		g.incrs[i] = g.incrs[i].(int) + 1
		return
	}
	g.keys = append(g.keys, key)
	g.incrs = append(g.incrs, 1)
	g.hits[key] = len(g.incrs) - 1
}

// finish adds the receipt as the last key and lays out publish.lua's ARGV: cutoff, number of stream entries,
// number of ts runs, the runs, the entries' ad_ids, the hit increments, the receipt's lifetime.
func (g *scriptCall) finish(receiptTTLms int64) {
	g.keys = append(g.keys, g.receipt)
	g.args = make([]any, 0, 4+len(g.runs)+len(g.adIDs)+len(g.incrs))
	g.args = append(g.args, g.cutoffMs, g.nx, len(g.runs)/2)
	g.args = append(g.args, g.runs...)
	g.args = append(g.args, g.adIDs...)
	g.args = append(g.args, g.incrs...)
	g.args = append(g.args, receiptTTLms)
}

// assign hands each XADD entry's stream ID, from the script's reply, to its caller.
func (g *scriptCall) assign() error {
	joined, err := g.cmd.Text()
	if err != nil {
		return err
	}
	return g.setIDs(joined)
}

// setIDs hands each XADD entry's stream ID to its caller; joined is the IDs joined by commas, as publish.lua
// returns them and leaves them in the receipt.
func (g *scriptCall) setIDs(joined string) error {
	var ids []string
	if joined != "" {
		ids = strings.Split(joined, ",")
	}
	if len(ids) != len(g.refs) {
		return fmt.Errorf("publish script returned %d ids for %d entries", len(ids), len(g.refs))
	}
	for k, r := range g.refs {
		r.pd.ids[r.idx] = ids[k]
	}
	return nil
}
