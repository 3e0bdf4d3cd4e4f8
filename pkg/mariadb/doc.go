// Package mariadb owns how adly reaches MariaDB: the connection (DSN, the idle-transaction bound set on every
// session, the start-up ping), the schema file splitter, the driver's log, the classification of
// MariaDB's errors (a retryable deadlock or lock wait, a data error), and the one way a transaction is run
// (InTx, and RetryTx, which runs it again after a deadlock or lock wait). It holds no table's SQL: the ledger and
// the path table own theirs. It never imports a Redis package.
package mariadb
