-- adly schema for MariaDB/MySQL. Idempotent: safe to apply to a fresh or an existing database.
-- Daily counts per ad (the seed's tables, unchanged, and their filtered-traffic companions) and per-path hit
-- counters (the path-hits design).

CREATE TABLE IF NOT EXISTS ad_daily_impressions (
  id INT AUTO_INCREMENT PRIMARY KEY,
  ad_id INT NOT NULL,
  date DATE NOT NULL,
  impressions BIGINT DEFAULT 0,
  UNIQUE KEY (ad_id, date)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS ad_daily_clicks (
  id INT AUTO_INCREMENT PRIMARY KEY,
  ad_id INT NOT NULL,
  date DATE NOT NULL,
  clicks BIGINT DEFAULT 0,
  UNIQUE KEY (ad_id, date)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Filtered traffic: entries the API labelled invalid (the stream field ivt: prefetch, crawler, …), counted per
-- (ad_id, date, reason) beside the daily tables above, which count valid traffic only, as they always did. The
-- commit that counts a batch's valid entries counts its filtered ones too, in the same transaction.
CREATE TABLE IF NOT EXISTS ad_daily_impressions_filtered (
  ad_id INT NOT NULL,
  date DATE NOT NULL,
  reason VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  impressions BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (ad_id, date, reason)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS ad_daily_clicks_filtered (
  ad_id INT NOT NULL,
  date DATE NOT NULL,
  reason VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  clicks BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (ad_id, date, reason)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- path compares byte for byte (utf8mb4_nopad_bin): '/About' and '/about', or '/a' and '/a ' (a PAD SPACE
-- collation such as utf8mb4_bin ignores trailing spaces), are different paths and different rows.
CREATE TABLE IF NOT EXISTS path_counters (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  path VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
  hit_count BIGINT UNSIGNED NOT NULL DEFAULT 0,
  created_at TIMESTAMP NULL DEFAULT NULL,
  updated_at TIMESTAMP NULL DEFAULT NULL,
  UNIQUE KEY path_counters_path_unique (path)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- Tables created by earlier versions had utf8mb4_bin, which merges paths that differ only in trailing spaces.
-- Rebuilds the path index once; a no-op (metadata only) afterwards.
ALTER TABLE path_counters MODIFY path VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL;

-- Report indexes (pkg/report). A report over a range of dates reads that range through an index that starts
-- with date and holds every column the report needs, so it never reads a whole table nor the table's rows:
-- the 30-day report of all ads reads 30 days of index entries. Top paths walk hit_count backwards and stop.
CREATE INDEX IF NOT EXISTS ad_daily_impressions_date_ad ON ad_daily_impressions (date, ad_id, impressions);
CREATE INDEX IF NOT EXISTS ad_daily_clicks_date_ad ON ad_daily_clicks (date, ad_id, clicks);
CREATE INDEX IF NOT EXISTS ad_daily_impressions_filtered_date_ad ON ad_daily_impressions_filtered (date, ad_id, reason, impressions);
CREATE INDEX IF NOT EXISTS ad_daily_clicks_filtered_date_ad ON ad_daily_clicks_filtered (date, ad_id, reason, clicks);
CREATE INDEX IF NOT EXISTS path_counters_hits ON path_counters (hit_count);

-- Exactly-once bookkeeping of the stream workers (pkg/ledger and pkg/worker/doc.go explain the argument).
-- One row per (stream, group): every commit of that group locks it, so commits of one group are serial.
CREATE TABLE IF NOT EXISTS stream_locks (
  stream VARCHAR(191) NOT NULL,
  grp VARCHAR(191) NOT NULL,
  PRIMARY KEY (stream, grp)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- What has been counted: a range of stream IDs [first, last] per contiguous batch read with '>', one row per
-- ID (first = last) for entries re-read from the pending list or reclaimed. IDs are kept as numbers.
CREATE TABLE IF NOT EXISTS stream_ledger (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  stream VARCHAR(191) NOT NULL,
  grp VARCHAR(191) NOT NULL,
  first_ms BIGINT UNSIGNED NOT NULL,
  first_seq BIGINT UNSIGNED NOT NULL,
  last_ms BIGINT UNSIGNED NOT NULL,
  last_seq BIGINT UNSIGNED NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  KEY stream_ledger_last (stream, grp, last_ms, last_seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The zone the commit dated its entries in (TIMEZONE); '' for rows written before zones were recorded.
ALTER TABLE stream_ledger ADD COLUMN IF NOT EXISTS zone VARCHAR(64) NOT NULL DEFAULT '';

-- Replays: ledger rows with id <= ledger_max_id no longer vouch for entries whose ts is at or after from_ms
-- (unix milliseconds); the daily rows dated from_date or later were cleared, and the entries from from_ms on
-- recounted in zone. Rows written before from_ms and zone were recorded (NULL, '') void by date instead:
-- entries dated from_date or later.
CREATE TABLE IF NOT EXISTS stream_replays (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  stream VARCHAR(191) NOT NULL,
  grp VARCHAR(191) NOT NULL,
  from_date DATE NOT NULL,
  ledger_max_id BIGINT UNSIGNED NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  KEY stream_replays_group (stream, grp)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
ALTER TABLE stream_replays ADD COLUMN IF NOT EXISTS from_ms BIGINT NULL DEFAULT NULL;
ALTER TABLE stream_replays ADD COLUMN IF NOT EXISTS zone VARCHAR(64) NOT NULL DEFAULT '';

-- Path sync bookkeeping: one row per committed sync chunk. A chunk's counters are added to path_counters in
-- the same transaction that inserts its row, so a chunk left in Redis by a crash is committed at most once.
CREATE TABLE IF NOT EXISTS path_sync_log (
  sync_id VARCHAR(64) NOT NULL PRIMARY KEY,
  paths INT UNSIGNED NOT NULL,
  hits BIGINT UNSIGNED NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  KEY path_sync_log_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
