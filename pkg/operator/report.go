package operator

import "time"

// Report is everything inspect shows, as one JSON document (--json). The field names are stable; the usage
// text (inspectUsage) documents them. Counts that could not be read are null; error fields say why.
type Report struct {
	Time    time.Time     `json:"time"`
	OK      bool          `json:"ok"`
	Redis   RedisReport   `json:"redis"`
	MariaDB MariaDBReport `json:"mariadb"`
}

// RedisReport is the Redis half of a Report.
type RedisReport struct {
	Addr     string          `json:"addr"`
	Prefix   string          `json:"prefix"`
	Error    string          `json:"error,omitempty"` // Redis did not answer; nothing else is set
	Streams  []StreamReport  `json:"streams"`         // every shard stream, impressions' first
	Kinds    []KindReport    `json:"kinds"`           // the totals of each kind's shards
	PathHits *PathHitsReport `json:"path_hits"`
}

// StreamReport is one stream (a shard of its kind), its group and its dead letters.
type StreamReport struct {
	Stream      string       `json:"stream"`
	Kind        string       `json:"kind"` // "impressions" or "clicks"
	Type        string       `json:"type"` // "stream", "none" (no stream yet) or another key type
	Error       string       `json:"error,omitempty"`
	Length      *int64       `json:"length"`
	First       *EntryRef    `json:"first"`
	Last        *EntryRef    `json:"last"`
	Group       *GroupReport `json:"group"`
	DeadLetters DeadReport   `json:"dead_letters"`
}

// KindReport is the total of one kind's shard streams (STREAM_SHARDS of them; one stream on a single node
// with one shard). A figure is null when some shard could not give it (Redis cannot tell a group's lag after
// a replay, for one). A shard without a stream counts nothing; one without a group yet counts its length
// as lag.
type KindReport struct {
	Kind        string `json:"kind"`
	Group       string `json:"group"`
	Shards      int    `json:"shards"`
	Length      *int64 `json:"length"`
	Lag         *int64 `json:"lag"`
	Pending     *int64 `json:"pending"`
	DeadLetters *int64 `json:"dead_letters"`
}

// EntryRef is a stream entry ID and the time its first part gives (Redis's clock when it was added).
type EntryRef struct {
	ID   string     `json:"id"`
	Time *time.Time `json:"time"`
}

// GroupReport is the consumer group of a stream.
type GroupReport struct {
	Name           string           `json:"name"`
	Exists         bool             `json:"exists"`
	Error          string           `json:"error,omitempty"`
	LastDelivered  string           `json:"last_delivered"`
	EntriesRead    *int64           `json:"entries_read"`
	Lag            *int64           `json:"lag"`
	Pending        int64            `json:"pending"`
	OldestPending  *PendingReport   `json:"oldest_pending"`
	Consumers      []ConsumerReport `json:"consumers"`
	ConsumersTotal int              `json:"consumers_total"`
}

// PendingReport is the oldest pending entry of a group.
type PendingReport struct {
	ID         string `json:"id"`
	AgeMs      *int64 `json:"age_ms"` // on Redis's clock; null when unknown or negative (clock skew)
	IdleMs     int64  `json:"idle_ms"`
	Deliveries int64  `json:"deliveries"`
	Consumer   string `json:"consumer"`
}

// ConsumerReport is one consumer of a group.
type ConsumerReport struct {
	Name       string `json:"name"`
	Pending    int64  `json:"pending"`
	IdleMs     int64  `json:"idle_ms"`
	InactiveMs *int64 `json:"inactive_ms"` // -1: never read; null before Redis 7.2
}

// DeadReport is a stream's dead-letter stream and its latest entries.
type DeadReport struct {
	Stream string       `json:"stream"`
	Error  string       `json:"error,omitempty"`
	Length *int64       `json:"length"`
	Latest []DeadLetter `json:"latest"`
}

// DeadLetter is one dead-lettered entry.
type DeadLetter struct {
	ID         string     `json:"id"`
	Time       *time.Time `json:"time"`
	OriginalID string     `json:"original_id"`
	Reason     string     `json:"reason"`
}

// PathHitsReport is what waits in Redis for the path syncer.
type PathHitsReport struct {
	Counters      int64       `json:"counters"`
	Hits          int64       `json:"hits"`
	NonInteger    int64       `json:"non_integer"`
	Parked        int64       `json:"parked"`
	ChunksPending *int64      `json:"chunks_pending"`
	Lock          *LockReport `json:"lock"`
	Complete      bool        `json:"complete"` // false: the scan stopped early, Note says why
	Note          string      `json:"note,omitempty"`
}

// LockReport is the path syncer's lock.
type LockReport struct {
	Held       bool   `json:"held"`
	Owner      string `json:"owner,omitempty"`
	TTLSeconds *int64 `json:"ttl_seconds"` // null when free or without expiry
}

// MariaDBReport is the MariaDB half of a Report.
type MariaDBReport struct {
	Addr     string `json:"addr"`
	Database string `json:"database"`
	Error    string `json:"error,omitempty"` // "not answering: …" or "query failed: …"
	Exists   bool   `json:"exists"`
	// Tables are the database's tables; MissingTables the ones inspect reads that it lacks.
	Tables        []string       `json:"tables"`
	MissingTables []string       `json:"missing_tables"`
	Day           string         `json:"day"`   // YYYY-MM-DD
	Today         bool           `json:"today"` // Day is today in Timezone (no --date)
	Timezone      string         `json:"timezone"`
	Ads           *AdsReport     `json:"ads"`
	Paths         *PathsReport   `json:"paths"`
	LedgerRows    *int64         `json:"stream_ledger_rows"`
	SyncLog       *SyncLogReport `json:"path_sync_log"`

	failure, cause string // Error in two parts, for the screen
}

// AdsReport is the day's counts: the top ads and the totals of valid traffic, and the filtered traffic per
// reason (counted apart, in neither Top nor Total; null when the filtered tables are missing).
type AdsReport struct {
	Top      []AdRow       `json:"top"`
	Total    AdTotal       `json:"total"`
	Filtered []FilteredRow `json:"filtered"`
}

// FilteredRow is the day's filtered traffic of one reason, over every ad.
type FilteredRow struct {
	Reason      string `json:"reason"`
	Impressions int64  `json:"impressions"`
	Clicks      int64  `json:"clicks"`
}

// AdRow is one ad's counts on the day. CTRPercent is clicks per 100 impressions, two decimals, null
// without impressions.
type AdRow struct {
	AdID        int64    `json:"ad_id"`
	Impressions int64    `json:"impressions"`
	Clicks      int64    `json:"clicks"`
	CTRPercent  *float64 `json:"ctr_percent"`

	ctr string // as MariaDB rounded it, for the screen
}

// AdTotal is the day's totals.
type AdTotal struct {
	Ads         int64    `json:"ads"`
	Impressions int64    `json:"impressions"`
	Clicks      int64    `json:"clicks"`
	CTRPercent  *float64 `json:"ctr_percent"`

	ctr string
}

// PathsReport is path_counters: the top paths and the totals.
type PathsReport struct {
	Top   []PathRow `json:"top"`
	Paths int64     `json:"paths"`
	Hits  int64     `json:"hits"`
}

// PathRow is one path's count. UpdatedAt is in Timezone; null when never updated.
type PathRow struct {
	Path      string     `json:"path"`
	HitCount  int64      `json:"hit_count"`
	UpdatedAt *time.Time `json:"updated_at"`
}

// SyncLogReport is path_sync_log.
type SyncLogReport struct {
	Rows int64      `json:"rows"`
	Last *time.Time `json:"last"` // in Timezone; null when empty
}
