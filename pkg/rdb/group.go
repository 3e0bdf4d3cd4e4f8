package rdb

import (
	"fmt"

	"github.com/redis/go-redis/v9"

	"adly/pkg/event"
)

// group is one script call: the events of a flush whose keys live in one hash slot. Against a single node
// every event of a flush is in one group; against a cluster there is one group per slot.
type group struct {
	keys []string
	args []any
	nx   int
	// where each XADD entry's ID goes: refs[k] is the k-th entry's caller and event index.
	refs []ref
	hits map[string]int // hit key -> index into keys
	cmd  *redis.Cmd
}

type ref struct {
	pd  *pending
	idx int
}

// build lays out the script calls for the calls in live. cutoffMs is on the Redis clock.
func (p *Publisher) build(live []*pending, cutoffMs int64) []*group {
	for _, pd := range live {
		pd.ids = make([]string, len(pd.events))
	}
	if !p.cluster {
		g := newGroup(cutoffMs)
		for _, pd := range live {
			for i, e := range pd.events {
				g.addStream(p.names.Stream(e.Type), pd, i, e)
			}
		}
		for _, pd := range live {
			for _, e := range pd.events {
				if e.Type == event.Hit {
					g.addHit(p.names.HitKey(e.Path))
				}
			}
		}
		return []*group{g.finish()}
	}
	bySlot := map[uint16]*group{}
	var order []*group
	get := func(key string) *group {
		s := Slot(key)
		g, ok := bySlot[s]
		if !ok {
			g = newGroup(cutoffMs)
			bySlot[s] = g
			order = append(order, g)
		}
		return g
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
	for _, g := range order {
		g.finish()
	}
	return order
}

func newGroup(cutoffMs int64) *group {
	return &group{args: []any{cutoffMs, 0}}
}

// addStream adds one XADD entry; hits are skipped here and added by addHit after all entries.
func (g *group) addStream(key string, pd *pending, i int, e event.Event) {
	if e.Type == event.Hit {
		return
	}
	g.keys = append(g.keys, key)
	g.args = append(g.args, e.AdID, pd.ts)
	g.refs = append(g.refs, ref{pd: pd, idx: i})
	g.nx++
}

// addHit adds one to a path's counter; several hits on one path in a flush become one INCRBY.
func (g *group) addHit(key string) {
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

func (g *group) finish() *group {
	g.args[1] = g.nx
	return g
}

// assign hands each XADD entry's stream ID to its caller.
func (g *group) assign() error {
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
