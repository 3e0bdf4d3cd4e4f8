// Package limits owns what the internet-facing API admits: who the client of a request is (ClientAddr, which
// believes X-Forwarded-For only from trusted proxies), how much that client may send (Limiter, a token
// bucket per IPv4 address or IPv6 /64), and which ad ids and paths are counted at all (AdIDRanges,
// PathPatterns). Its rules are pure and in-process: the settings are parsed once, and every verdict is a
// value the caller maps to an answer.
//
// It never talks to Redis or MariaDB, never writes an HTTP answer (turning a refusal into one, 429 with
// Retry-After or 400, is the caller's), and never logs: a verdict per request is for the caller to count in
// a metric.
//
// # Who the client is
//
// The API sees one TCP peer per connection. Reached directly, that peer is the visitor. Behind a reverse
// proxy it is the proxy, and the visitor's address is in the X-Forwarded-For header the proxy appends to.
// Anyone can send that header, so it is believed only from a trusted peer, and read from the right: each
// trusted proxy appends the address it received the request from, so the rightmost address that is not a
// trusted proxy is the one the first trusted proxy saw, and everything left of it may be made up by the
// client (ClientAddr.Of gives the exact rules). DefaultTrustedProxies, loopback and the private ranges,
// suits an ordinary site with one proxy on the same host or private network. A site reached directly
// should trust nothing; one behind a CDN must add the CDN's ranges.
//
// # Sizing the rate limit
//
// An ordinary visitor sends a few events per second: an impression per ad shown, a click now and then, a
// hit per page. Many visitors can share one address: everyone behind an office or home NAT, and whole
// neighbourhoods behind a carrier-grade NAT (mobile networks especially), so the limit must be far above
// one visitor's needs. The suggested defaults, DefaultRate = 100 tokens per second and DefaultBurst = 200
// per client, admit some thirty visitors behind one address all sending a few events every second at
// once, and many more as they really come and go, and still stop one machine that floods the API.
//
// Behind a reverse proxy that is not trusted, every visitor is seen as the proxy's address and shares one
// bucket: the whole site would be limited to DefaultRate. Trust the proxy (put its address in the trusted
// prefixes) rather than raising the rate. A trusted proxy that sends no X-Forwarded-For leaves its visitors
// indistinguishable; the client is then the proxy itself, a trusted address (ClientAddr.Trusts), which the
// API does not limit — so the default trusted prefixes never let one proxy's visitors share a bucket.
//
// A caller charges a request n tokens. A request of more than Burst tokens is never admitted (Allow returns
// Never). The API charges one token per request, whatever its number of events (a batch is bounded by
// MAX_BATCH_EVENTS and its new paths by NEW_PATHS_PER_MINUTE instead).
//
// # Memory
//
// A Limiter remembers at most MaxClients clients (DefaultMaxClients = 100,000, some 11 MB at most). When it is
// full, a new client takes the place of one whose bucket has refilled, which changes no answer, or else of
// the one least recently seen, which can only give that client tokens back; see Limiter.
package limits
