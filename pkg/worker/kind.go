package worker

import (
	"adly/pkg/rdb"
	"adly/pkg/store"
)

// Kind is what differs between the impression worker and the click worker: stream, group and table.
type Kind struct {
	Name         string // "impression-worker"
	Stream       func(rdb.Names) string
	Group        func(rdb.Names) string
	Table        store.Table
	DefaultAdmin string
}

// The two workers.
var (
	Impressions = Kind{
		Name: "impression-worker", Stream: rdb.Names.ImpressionsStream, Group: rdb.Names.ImpressionGroup,
		Table: store.Impressions, DefaultAdmin: "127.0.0.1:9092",
	}
	Clicks = Kind{
		Name: "click-worker", Stream: rdb.Names.ClicksStream, Group: rdb.Names.ClickGroup,
		Table: store.Clicks, DefaultAdmin: "127.0.0.1:9093",
	}
)
