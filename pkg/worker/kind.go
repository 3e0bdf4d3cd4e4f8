package worker

import (
	"adly/pkg/event"
	"adly/pkg/keyspace"
	"adly/pkg/ledger"
)

// Kind is what differs between the impression worker and the click worker: streams, group and table.
type Kind struct {
	Name         string     // "impression-worker"
	Type         event.Type // the events of its streams
	Group        func(keyspace.Names) string
	Table        ledger.Table
	DefaultAdmin string
}

// Streams are the kind's shard streams under names (keyspace.Names.Streams): the seed's single stream with
// one shard on a single node, else one stream per shard. A worker process reads every one of them.
func (k Kind) Streams(n keyspace.Names) []string { return n.Streams(k.Type) }

// The two workers.
var (
	Impressions = Kind{
		Name: "impression-worker", Type: event.Impression, Group: keyspace.Names.ImpressionGroup,
		Table: ledger.Impressions, DefaultAdmin: "127.0.0.1:9092",
	}
	Clicks = Kind{
		Name: "click-worker", Type: event.Click, Group: keyspace.Names.ClickGroup,
		Table: ledger.Clicks, DefaultAdmin: "127.0.0.1:9093",
	}
)
