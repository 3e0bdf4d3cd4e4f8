package limits

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// DefaultTrustedProxies are the loopback and private ranges: 127.0.0.0/8, ::1/128, 10.0.0.0/8, 172.16.0.0/12,
// 192.168.0.0/16 and fc00::/7. An ordinary site puts one reverse proxy in front of the API, on the same host
// or on a private network, and nobody on the internet connects from these addresses, so a peer in them is
// taken to be that proxy and its X-Forwarded-For is believed.
var DefaultTrustedProxies = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("fc00::/7"),
}

// ParsePrefixes reads a comma-separated list of prefixes and bare addresses, such as
// "127.0.0.0/8, ::1, 10.0.0.0/8". A bare address stands for itself alone (/32 or /128). Whitespace around
// items is ignored; an empty or blank string is the empty list. Host bits are cleared ("10.1.2.3/8" is
// 10.0.0.0/8), and an IPv4-mapped IPv6 prefix becomes its IPv4 prefix ("::ffff:10.0.0.0/104" is 10.0.0.0/8),
// as client addresses are unmapped before they are compared. An item that is not a prefix or an address, an
// empty item, an address with a zone, and an IPv4-mapped prefix shorter than /96 are errors naming the item.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	items := strings.Split(s, ",")
	out := make([]netip.Prefix, 0, len(items))
	for _, item := range items {
		item = strings.TrimSpace(item)
		p, err := parsePrefix(item)
		if err != nil {
			return nil, fmt.Errorf("prefix list: item %q: %w", item, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func parsePrefix(item string) (netip.Prefix, error) {
	if item == "" {
		return netip.Prefix{}, errors.New("empty item")
	}
	var p netip.Prefix
	if strings.Contains(item, "/") {
		var err error
		if p, err = netip.ParsePrefix(item); err != nil {
			return netip.Prefix{}, err
		}
	} else {
		a, err := netip.ParseAddr(item)
		if err != nil {
			return netip.Prefix{}, err
		}
		if a.Zone() != "" {
			return netip.Prefix{}, errors.New("an address with a zone cannot be trusted")
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, errors.New("an IPv4-mapped prefix must be at least /96")
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// ClientAddr decides who the client of a request is: the direct peer, or, when the peer is a trusted proxy,
// the address that proxy reports in X-Forwarded-For. The zero ClientAddr trusts no one. It is immutable and
// safe for concurrent use.
type ClientAddr struct {
	trusted []netip.Prefix
}

// NewClientAddr trusts the proxies in the given prefixes (DefaultTrustedProxies for an ordinary site; none
// when the API faces the internet directly, so that X-Forwarded-For is never believed). IPv4-mapped
// prefixes of /96 or longer are turned into IPv4 ones, as ParsePrefixes does; invalid prefixes and mapped
// ones shorter than /96 (which ParsePrefixes refuses) are ignored.
func NewClientAddr(trusted []netip.Prefix) ClientAddr {
	c := ClientAddr{trusted: make([]netip.Prefix, 0, len(trusted))}
	for _, p := range trusted {
		if !p.IsValid() {
			continue
		}
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				continue
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		c.trusted = append(c.trusted, p.Masked())
	}
	return c
}

// OfRequest is Of(r.RemoteAddr, r.Header.Values("X-Forwarded-For")).
func (c ClientAddr) OfRequest(r *http.Request) netip.Addr {
	return c.Of(r.RemoteAddr, r.Header.Values("X-Forwarded-For"))
}

// Of is the client's address, given the direct peer (remoteAddr, "ip:port" as net/http sets it, or a bare
// address) and the values of every X-Forwarded-For header of the request, in the order they arrived.
//
//   - A peer that is not trusted is the client: X-Forwarded-For is ignored, as anyone can send it.
//   - A trusted peer is a proxy. The X-Forwarded-For entries (all values joined, comma-separated, each entry
//     an address, optionally "ip:port" or "[ipv6]:port", spaces and tabs around it ignored, empty entries
//     skipped) are walked from the right, the hop nearest to us, leftwards: trusted addresses are proxies and
//     are passed over; the first address that is not trusted is the client (rightmost-untrusted). Entries
//     left of it may have been written by the client itself and are never looked at.
//   - When every entry is trusted, the client is the leftmost one; with no entries, it is the peer.
//   - An entry that is not an address ("unknown", an obfuscated name, garbage) stops the walk: the client is
//     the last address taken before it — the nearest trusted entry to its right, or the peer when it is the
//     rightmost entry. What stands left of a hop we cannot read is not believed.
//
// Every address is returned unmapped (::ffff:1.2.3.4 is 1.2.3.4) and without a zone. A remoteAddr that is
// not an address (a Unix socket listener's "@" or "") gives the zero Addr, which is never trusted; callers
// that key on it put every such request under one key. Of never panics; it allocates nothing when the
// peer is "ip:port" and the entries it reads are bare addresses.
func (c ClientAddr) Of(remoteAddr string, xff []string) netip.Addr {
	peer, ok := parsePeer(remoteAddr)
	if !ok || !c.Trusts(peer) {
		return peer
	}
	client := peer
	for i := len(xff) - 1; i >= 0; i-- {
		rest := xff[i]
		for more := true; more; {
			var entry string
			if j := strings.LastIndexByte(rest, ','); j >= 0 {
				rest, entry = rest[:j], rest[j+1:]
			} else {
				entry, more = rest, false
			}
			entry = strings.Trim(entry, " \t")
			if entry == "" {
				continue
			}
			a, ok := parseHop(entry)
			if !ok {
				return client
			}
			if !c.Trusts(a) {
				return a
			}
			client = a
		}
	}
	return client
}

// Trusts reports whether a is in the trusted prefixes: one of the operator's own proxies. A client that
// resolves to a trusted address could not be told apart (a proxy that sends no X-Forwarded-For): limiting it
// would limit every visitor behind it, so callers do not.
func (c ClientAddr) Trusts(a netip.Addr) bool {
	for _, p := range c.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parsePeer reads a RemoteAddr: "ip:port" first, as net/http sets it, then a bare address.
func parsePeer(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

// parseHop reads an X-Forwarded-For entry: a bare address first, as proxies write it, then "ip:port".
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}
