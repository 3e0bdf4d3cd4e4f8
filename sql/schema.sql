-- adly schema for MariaDB/MySQL. Idempotent: safe to apply to a fresh or an existing database.
-- Daily counts per ad (the seed's tables, unchanged) and per-path hit counters (the path-hits design).

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

CREATE TABLE IF NOT EXISTS path_counters (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  path VARCHAR(255) NOT NULL,
  hit_count BIGINT UNSIGNED NOT NULL DEFAULT 0,
  created_at TIMESTAMP NULL DEFAULT NULL,
  updated_at TIMESTAMP NULL DEFAULT NULL,
  UNIQUE KEY path_counters_path_unique (path)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
