// Package report owns adly's reports: what was counted, read back for people. It owns the report queries over
// the daily tables (ad_daily_impressions, ad_daily_clicks and their filtered companions) and path_counters,
// the date ranges they cover (calendar days in the workers' TIMEZONE), the JSON and CSV answers of the
// read-only HTTP API under /api/v1/, who may read them (REPORT_TOKEN, REPORT_USER and REPORT_PASSWORD), and
// cmd/report's configuration, listeners and shutdown.
//
// It never writes, and it never imports a Redis package: every statement it sends is a SELECT (a
// SELECT-only MariaDB user is enough, and the tests run the reports through one), and the figures it shows
// are what the workers and the syncer have committed, not what is still on its way through Redis.
//
// Dates are civil dates: a Range holds its first and last day as time.Time values at 00:00 UTC, which is
// how the MySQL driver returns a DATE column. They name calendar days of the workers' zone; they are not
// instants, and converting them to another zone changes nothing that they mean.
//
// The HTML dashboard is another package's: it reads the same Store, and App serves it at "/" (see UI).
package report
