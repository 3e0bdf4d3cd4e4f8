package keyspace

import (
	"strconv"

	"adly/pkg/event"
)

// The seed's names; Names adds the configured prefix in front of stream and key names.
const (
	impressionsStream = "impressions_stream"
	clicksStream      = "clicks_stream"
	impressionGroup   = "impression_group"
	clickGroup        = "click_group"
	hitKeyStem        = "analytics:hit"
	hitKeyPrefix      = hitKeyStem + ":"
	parkedKeyStem     = "analytics:parked"
	parkedKeyPrefix   = parkedKeyStem + ":"
	syncLockKey       = "analytics:sync:lock"
	syncEpochKey      = "analytics:sync:epoch"
	syncFenceKey      = "analytics:sync:fence"
	syncPendingKey    = "analytics:sync:pending"
	syncStagingStem   = "analytics:sync:staging"
	syncStagingPrefix = syncStagingStem + ":"
	receiptPrefix     = "adly:receipt:"
	eventIDPrefix     = "adly:eid:"
	newPathsPrefix    = "adly:newpaths:"
	analyticsPrefix   = "analytics:"
)

// Names hands out every Redis name adly uses. The zero value has no prefix and one stream per kind of
// event (WithShards splits them).
type Names struct {
	prefix string
	shards int  // streams per kind of ad event; 0 and 1 both mean the seed's single stream
	tagged bool // streams carry a shard tag even when there is one (OnCluster)
}

// NewNames returns the names under prefix ("" for the seed's names).
func NewNames(prefix string) Names { return Names{prefix: prefix} }

// Prefix is the prefix in front of every key.
func (n Names) Prefix() string { return n.prefix }

// ImpressionsStream is the stream of impression events.
func (n Names) ImpressionsStream() string { return n.prefix + impressionsStream }

// ClicksStream is the stream of click events.
func (n Names) ClicksStream() string { return n.prefix + clicksStream }

// ImpressionGroup is the consumer group that counts impressions. Groups live inside their stream, so they
// need no prefix.
func (n Names) ImpressionGroup() string { return impressionGroup }

// ClickGroup is the consumer group that counts clicks.
func (n Names) ClickGroup() string { return clickGroup }

// Stream is the seed's stream an ad event of type t goes to, whatever the shard count (Streams are the
// shards); "" for types that are not streamed.
func (n Names) Stream(t event.Type) string {
	switch t {
	case event.Impression:
		return n.ImpressionsStream()
	case event.Click:
		return n.ClicksStream()
	default:
		return ""
	}
}

// HitKey is the counter of a normalised path: analytics:hit:<path>, the path-hits design's format, so
// counters written by any producer that follows it are synced alike.
func (n Names) HitKey(path string) string { return n.prefix + hitKeyPrefix + path }

// TaggedHitKey is the counter of path written by a script call whose keys share the hash tag tag (Redis
// Cluster with STREAM_SHARDS > 1: the API's hits share the shard's tag): analytics:hit{<tag>}:<path>. With
// tag "" it is HitKey(path). The brace right after "hit" (where an untagged key has its colon) keeps the two
// shapes apart whatever a path holds: no untagged key starts with analytics:hit{, and a tag never holds a
// brace, so the first "}:" ends it. One path may have a counter under each tag and an untagged one; the
// syncer adds them all.
func (n Names) TaggedHitKey(path, tag string) string {
	if tag == "" {
		return n.HitKey(path)
	}
	return n.prefix + hitKeyStem + "{" + tag + "}:" + path
}

// PathOfHitKey is the path part of a hit counter key, tagged (TaggedHitKey) or not; ok is false for keys of
// another shape.
func (n Names) PathOfHitKey(key string) (string, bool) {
	p := n.prefix + hitKeyPrefix
	if len(key) >= len(p) && key[:len(p)] == p {
		return key[len(p):], true
	}
	t := n.prefix + hitKeyStem + "{"
	if len(key) < len(t) || key[:len(t)] != t {
		return "", false
	}
	rest := key[len(t):]
	for i := 0; i+1 < len(rest); i++ {
		if rest[i] == '}' {
			if rest[i+1] != ':' || i == 0 {
				return "", false
			}
			return rest[i+2:], true
		}
	}
	return "", false
}

// ParkedKey is where a hit counter that cannot be synced is moved: analytics:parked:<path>.
func (n Names) ParkedKey(path string) string { return n.prefix + parkedKeyPrefix + path }

// TaggedParkedKey is ParkedKey in the slot of the hash tag tag (a cluster renames a key only within its
// slot): analytics:parked{<tag>}:<path>. With tag "" it is ParkedKey(path).
func (n Names) TaggedParkedKey(path, tag string) string {
	if tag == "" {
		return n.ParkedKey(path)
	}
	return n.prefix + parkedKeyStem + "{" + tag + "}:" + path
}

// IsParkedKey says whether key is a parked counter, tagged or not.
func (n Names) IsParkedKey(key string) bool {
	p := n.prefix + parkedKeyStem
	return len(key) > len(p) && key[:len(p)] == p && (key[len(p)] == ':' || key[len(p)] == '{')
}

// SyncLock is the key of the path syncer's lock.
func (n Names) SyncLock() string { return n.prefix + syncLockKey }

// SyncEpoch is the counter that numbers the owners of the sync lock on a cluster (each owner's fences carry
// its number, so that an older owner cannot take a slot back).
func (n Names) SyncEpoch() string { return n.prefix + syncEpochKey }

// SyncFence is the path syncer's fence of the hash slot of tag on a cluster (analytics:sync:fence{<tag>}):
// it holds the fence value of the sync that claimed the slot last. A single Redis has no fences: the sync
// lock fences everything there.
func (n Names) SyncFence(tag string) string { return n.prefix + syncFenceKey + "{" + tag + "}" }

// SyncPending is the set of sync chunks whose counters were moved out of the hit keys and are not yet known
// to be committed to MariaDB.
func (n Names) SyncPending() string { return n.prefix + syncPendingKey }

// TaggedSyncPending is SyncPending for the parts of chunks staged in the hash slot of tag (a cluster):
// analytics:sync:pending{<tag>}. With tag "" it is SyncPending().
func (n Names) TaggedSyncPending(tag string) string {
	if tag == "" {
		return n.SyncPending()
	}
	return n.prefix + syncPendingKey + "{" + tag + "}"
}

// SyncStaging is the string that holds one sync chunk's counters ("key<LF>hits<LF>" pairs) between move and
// commit.
func (n Names) SyncStaging(syncID string) string { return n.prefix + syncStagingPrefix + syncID }

// TaggedSyncStaging is SyncStaging for the part of a chunk staged in the hash slot of tag (a cluster):
// analytics:sync:staging{<tag>}:<sync id>. With tag "" it is SyncStaging(syncID).
func (n Names) TaggedSyncStaging(syncID, tag string) string {
	if tag == "" {
		return n.SyncStaging(syncID)
	}
	return n.prefix + syncStagingStem + "{" + tag + "}:" + syncID
}

// Receipt is the key where publish.lua records that one script call ran (its stream IDs), so that a
// publisher that lost the reply can find out. tag, when not empty, is a hash tag that puts the key in the
// hash slot of the call's other keys (Redis Cluster).
func (n Names) Receipt(token, tag string) string {
	if tag == "" {
		return n.prefix + receiptPrefix + token
	}
	return n.prefix + receiptPrefix + "{" + tag + "}:" + token
}

// EventID is the key that remembers, for the publisher's EVENT_ID_TTL, that the event with the client's
// event_id id was stored: it holds the stream ID of the first write (a marker for a hit), so that a retry is
// answered with it instead of being stored again. It lies outside analytics:, which the path syncer scans.
// tag, when not empty, is a hash tag that puts the key in the hash slot of the script call that writes the
// event (Redis Cluster); an event_id never holds a brace (event.ParseEventID), so it cannot choose a slot
// of its own.
func (n Names) EventID(id, tag string) string {
	if tag == "" {
		return n.prefix + eventIDPrefix + id
	}
	return n.prefix + eventIDPrefix + "{" + tag + "}:" + id
}

// NewPaths is the count of path counters created in one Unix minute (Unix time / 60), the budget the
// publisher's NEW_PATHS_PER_MINUTE bounds. tag is as for EventID.
func (n Names) NewPaths(minute int64, tag string) string {
	m := strconv.FormatInt(minute, 10)
	if tag == "" {
		return n.prefix + newPathsPrefix + m
	}
	return n.prefix + newPathsPrefix + "{" + tag + "}:" + m
}

// HitKeyPattern matches every path counter, tagged or not (for SCAN MATCH): analytics:hit[:{]*. Glob
// characters in the prefix are escaped.
func (n Names) HitKeyPattern() string { return escapeGlob(n.prefix+hitKeyStem) + "[:{]*" }

func escapeGlob(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// AnalyticsPattern matches every path-hits key (counters, parked counters, the syncer's lock, pending set and
// staging), for one SCAN MATCH pass over them all. Glob characters in the prefix are escaped.
func (n Names) AnalyticsPattern() string { return escapeGlob(n.prefix+analyticsPrefix) + "*" }
