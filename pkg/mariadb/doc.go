// Package mariadb owns how adly reaches MariaDB: the connection (DSN, the idle-transaction bound set on every
// session, the start-up ping), the schema file splitter, the driver's log, and the classification of
// MariaDB's errors (a retryable deadlock or lock wait, a data error). It holds no table's SQL: the ledger and
// the path table own theirs. It never imports a Redis package.
package mariadb
