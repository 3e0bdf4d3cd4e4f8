package rdb

import (
	"fmt"

	"github.com/redis/go-redis/v9"

	"adly/pkg/event"
)

// scriptCall is one call of publish.lua: the events of a flush whose keys live in one hash slot. Against a
// single node every event of a flush goes in one call; against a cluster there is one call per slot.
type scriptCall struct {
	keys []string
	args []any
	nx   int
	// where each XADD entry's ID goes: refs[k] is the k-th entry's caller and event index.
	refs []ref
	hits map[string]int // hit key -> index into args
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
			slot = Slot(key)
		}
		c, ok := bySlot[slot]
		if !ok {
			c = newScriptCall(cutoffMs)
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
		c.finish()
	}
	return order
}

func newScriptCall(cutoffMs int64) *scriptCall {
	return &scriptCall{args: []any{cutoffMs, 0}}
}

// addStream adds one XADD entry.
func (g *scriptCall) addStream(key string, pd *pending, i int, e event.Event) {
	g.keys = append(g.keys, key)
	g.args = append(g.args, e.AdID, pd.ts)
	g.refs = append(g.refs, ref{pd: pd, idx: i})
	g.nx++
}

// addHit adds one to a path's counter; several hits on one path in a flush become one INCRBY.
func (g *scriptCall) addHit(key string) {
	if g.hits == nil {
		g.hits = map[string]int{}
	}
	if i, ok := g.hits[key]; ok {
		g.args[i] = g.args[i].(int) + 1
		return
	}
	g.keys = append(g.keys, key)
	g.args = append(g.args, 1)
	g.hits[key] = len(g.args) - 1
}

// finish fills in the number of stream entries, publish.lua's ARGV[2].
func (g *scriptCall) finish() {
	g.args[1] = g.nx
}

// assign hands each XADD entry's stream ID to its caller.
func (g *scriptCall) assign() error {
	res, err := g.cmd.Slice()
	if err != nil {
		return err
	}
	if len(res) != len(g.refs) {
		return fmt.Errorf("publish script returned %d ids for %d entries", len(res), len(g.refs))
	}
	for k, r := range g.refs {
		id, ok := res[k].(string)
		if !ok {
			return fmt.Errorf("publish script returned %T for an id", res[k])
		}
		r.pd.ids[r.idx] = id
	}
	return nil
}
