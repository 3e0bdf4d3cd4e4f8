// Package redisconn owns how adly connects to Redis: the client built from config.Redis (one node or a
// cluster), the start-up ping, the memory figures (used_memory, maxmemory) read from INFO on every master,
// and the check of a script reply's shape (ScanReply) every script caller uses before it reads the reply. It
// never builds a key and never writes: what is written, and where, belongs to the stage that writes it
// (publish, stream, hits).
package redisconn
