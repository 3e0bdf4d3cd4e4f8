package worker

import (
	"adly/pkg/keyspace"
	"adly/pkg/ledger"
)

// Kind is what differs between the impression worker and the click worker: stream, group and table.
type Kind struct {
	Name         string // "impression-worker"
	Stream       func(keyspace.Names) string
	Group        func(keyspace.Names) string
	Table        ledger.Table
	DefaultAdmin string
}

// The two workers.
var (
	Impressions = Kind{
		Name: "impression-worker", Stream: keyspace.Names.ImpressionsStream, Group: keyspace.Names.ImpressionGroup,
		Table: ledger.Impressions, DefaultAdmin: "127.0.0.1:9092",
	}
	Clicks = Kind{
		Name: "click-worker", Stream: keyspace.Names.ClicksStream, Group: keyspace.Names.ClickGroup,
		Table: ledger.Clicks, DefaultAdmin: "127.0.0.1:9093",
	}
)
