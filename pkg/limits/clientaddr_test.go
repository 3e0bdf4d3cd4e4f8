package limits

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParsePrefixes(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr string
	}{
		{name: "empty", in: "", want: nil},
		{name: "blank", in: " \t ", want: nil},
		{name: "list", in: "127.0.0.0/8,::1,10.0.0.0/8", want: []string{"127.0.0.0/8", "::1/128", "10.0.0.0/8"}},
		{name: "spaces", in: " 192.168.1.7 , fd00::/8 ", want: []string{"192.168.1.7/32", "fd00::/8"}},
		{name: "host bits cleared", in: "10.1.2.3/8", want: []string{"10.0.0.0/8"}},
		{name: "mapped prefix unmapped", in: "::ffff:10.0.0.0/104", want: []string{"10.0.0.0/8"}},
		{name: "mapped address unmapped", in: "::ffff:192.0.2.1", want: []string{"192.0.2.1/32"}},
		{name: "mapped prefix too short", in: "::ffff:0:0/95", wantErr: `item "::ffff:0:0/95": an IPv4-mapped prefix must be at least /96`},
		{name: "not an address", in: "10.0.0.0/8,proxy.local", wantErr: `item "proxy.local"`},
		{name: "bad bits", in: "10.0.0.0/33", wantErr: `item "10.0.0.0/33"`},
		{name: "empty item", in: "10.0.0.0/8,,::1", wantErr: `item "": empty item`},
		{name: "trailing comma", in: "10.0.0.0/8,", wantErr: `item "": empty item`},
		{name: "zone", in: "fe80::1%eth0", wantErr: `item "fe80::1%eth0": an address with a zone`},
		{name: "zone in prefix", in: "fe80::1%eth0/64", wantErr: `item "fe80::1%eth0/64"`},
		{name: "port", in: "10.0.0.1:80", wantErr: `item "10.0.0.1:80"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePrefixes(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, "prefix list: ")
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			var texts []string
			for _, p := range got {
				texts = append(texts, p.String())
			}
			require.Equal(t, tt.want, texts)
		})
	}
}

func TestDefaultTrustedProxies(t *testing.T) {
	c := NewClientAddr(DefaultTrustedProxies)
	for _, a := range []string{"127.0.0.1", "127.255.0.9", "::1", "10.9.8.7", "172.16.0.1", "172.31.255.255", "192.168.0.1", "fd12::1", "fc00::1", "::ffff:10.0.0.1"} {
		require.True(t, c.Trusts(netip.MustParseAddr(a).Unmap()), a)
	}
	for _, a := range []string{"8.8.8.8", "172.32.0.1", "172.15.255.255", "192.169.0.1", "11.0.0.1", "2001:db8::1", "fe80::1", "::2", "0.0.0.0", "::"} {
		require.False(t, c.Trusts(netip.MustParseAddr(a)), a)
	}
}

func TestClientAddrOf(t *testing.T) {
	trusted, err := ParsePrefixes("127.0.0.0/8,::1,10.0.0.0/8")
	require.NoError(t, err)
	tests := []struct {
		name    string
		trusted []netip.Prefix // nil: the list above
		remote  string
		xff     []string
		want    string // "" is the zero Addr
	}{
		{name: "direct, no header", remote: "203.0.113.5:4000", want: "203.0.113.5"},
		{name: "untrusted peer, header ignored", remote: "203.0.113.5:4000", xff: []string{"198.51.100.1"}, want: "203.0.113.5"},
		{name: "trusted peer, no header", remote: "127.0.0.1:4000", want: "127.0.0.1"},
		{name: "trusted peer, empty header", remote: "127.0.0.1:4000", xff: []string{""}, want: "127.0.0.1"},
		{name: "one proxy", remote: "127.0.0.1:4000", xff: []string{"198.51.100.1"}, want: "198.51.100.1"},
		{name: "client forges left entries", remote: "127.0.0.1:4000", xff: []string{"1.1.1.1, 2.2.2.2, 198.51.100.1"}, want: "198.51.100.1"},
		{name: "two trusted proxies", remote: "127.0.0.1:4000", xff: []string{"6.6.6.6, 198.51.100.1, 10.0.0.2"}, want: "198.51.100.1"},
		{name: "several header values in order", remote: "127.0.0.1:4000", xff: []string{"6.6.6.6, 198.51.100.1", "10.0.0.3", "10.0.0.2"}, want: "198.51.100.1"},
		{name: "all trusted: leftmost", remote: "127.0.0.1:4000", xff: []string{"10.0.0.9, 10.0.0.8", "127.0.0.2"}, want: "10.0.0.9"},
		{name: "empty entries skipped", remote: "127.0.0.1:4000", xff: []string{" , 198.51.100.1 ,, 10.0.0.2, "}, want: "198.51.100.1"},
		{name: "tabs", remote: "127.0.0.1:4000", xff: []string{"\t198.51.100.1\t"}, want: "198.51.100.1"},
		{name: "malformed rightmost: the peer", remote: "127.0.0.1:4000", xff: []string{"198.51.100.1, unknown"}, want: "127.0.0.1"},
		{name: "malformed after a trusted hop: that hop", remote: "127.0.0.1:4000", xff: []string{"198.51.100.1, garbage, 10.0.0.2"}, want: "10.0.0.2"},
		{name: "malformed left of the client: not reached", remote: "127.0.0.1:4000", xff: []string{"garbage, 198.51.100.1"}, want: "198.51.100.1"},
		{name: "malformed in a later value", remote: "127.0.0.1:4000", xff: []string{"198.51.100.1", "_hidden"}, want: "127.0.0.1"},
		{name: "entry with port", remote: "127.0.0.1:4000", xff: []string{"198.51.100.1:5555"}, want: "198.51.100.1"},
		{name: "ipv6 entry with port", remote: "127.0.0.1:4000", xff: []string{"[2001:db8::7]:5555"}, want: "2001:db8::7"},
		{name: "ipv6 entry", remote: "[::1]:4000", xff: []string{"2001:db8::7"}, want: "2001:db8::7"},
		{name: "mapped entry unmapped", remote: "[::1]:4000", xff: []string{"::ffff:198.51.100.1"}, want: "198.51.100.1"},
		{name: "mapped trusted entry skipped", remote: "[::1]:4000", xff: []string{"198.51.100.1, ::ffff:10.0.0.1"}, want: "198.51.100.1"},
		{name: "mapped peer is trusted", remote: "[::ffff:10.0.0.1]:80", xff: []string{"198.51.100.1"}, want: "198.51.100.1"},
		{name: "mapped untrusted peer unmapped", remote: "[::ffff:203.0.113.5]:80", want: "203.0.113.5"},
		{name: "zone dropped", remote: "[fe80::1%eth0]:80", want: "fe80::1"},
		{name: "entry zone dropped", remote: "127.0.0.1:1", xff: []string{"fe80::1%eth0"}, want: "fe80::1"},
		{name: "bare remote address", remote: "203.0.113.5", want: "203.0.113.5"},
		{name: "unix socket", remote: "@", xff: []string{"198.51.100.1"}, want: ""},
		{name: "empty remote", remote: "", want: ""},
		{name: "trust nothing", trusted: []netip.Prefix{}, remote: "127.0.0.1:4000", xff: []string{"198.51.100.1"}, want: "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := trusted
			if tt.trusted != nil {
				tr = tt.trusted
			}
			got := NewClientAddr(tr).Of(tt.remote, tt.xff)
			if tt.want == "" {
				require.False(t, got.IsValid(), "got %v", got)
				return
			}
			require.Equal(t, netip.MustParseAddr(tt.want), got)
		})
	}
}

func TestClientAddrOfRequest(t *testing.T) {
	r := httptest.NewRequest("GET", "/track/x", nil)
	r.RemoteAddr = "10.0.0.2:1234"
	r.Header.Add("X-Forwarded-For", "6.6.6.6, 198.51.100.1")
	r.Header.Add("x-forwarded-for", "10.0.0.3")
	require.Equal(t, netip.MustParseAddr("198.51.100.1"), NewClientAddr(DefaultTrustedProxies).OfRequest(r))
	require.Equal(t, netip.MustParseAddr("10.0.0.2"), ClientAddr{}.OfRequest(r))
}

func TestNewClientAddrNormalises(t *testing.T) {
	c := NewClientAddr([]netip.Prefix{
		{}, // invalid: ignored
		netip.MustParsePrefix("::ffff:10.0.0.0/104"),
		netip.MustParsePrefix("::ffff:0:0/80"), // wider than the mapped range: ignored
		netip.MustParsePrefix("192.168.1.9/24"),
	})
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.0/24")}, c.trusted)
}

func TestClientAddrOfAllocations(t *testing.T) {
	c := NewClientAddr(DefaultTrustedProxies)
	xff := []string{"6.6.6.6, 198.51.100.1", "10.0.0.2"}
	require.Zero(t, testing.AllocsPerRun(100, func() { _ = c.Of("127.0.0.1:4000", xff) }))
	require.Zero(t, testing.AllocsPerRun(100, func() { _ = c.Of("[2001:db8::1]:4000", nil) }))
}

// FuzzClientAddrOf: any peer and headers give an answer without panicking, and the answer is one of the
// addresses present (the peer or an entry), unmapped and zoneless, or the zero Addr for a peer that is not
// an address.
func FuzzClientAddrOf(f *testing.F) {
	f.Add("127.0.0.1:80", "198.51.100.1, 10.0.0.1", "")
	f.Add("[::1]:80", "garbage,,2001:db8::1", "[::ffff:1.2.3.4]:9")
	f.Add("@", "1.2.3.4", "")
	f.Add("10.0.0.1", ",,,", " \t")
	f.Add("[fe80::1%eth0]:1", "fe80::2%x", "::ffff:10.0.0.1")
	c := NewClientAddr(DefaultTrustedProxies)
	f.Fuzz(func(t *testing.T, remote, xff1, xff2 string) {
		got := c.Of(remote, []string{xff1, xff2})
		if !got.IsValid() {
			_, ok := parsePeer(remote)
			require.False(t, ok, "valid peer %q gave the zero Addr", remote)
			return
		}
		require.False(t, got.Is4In6(), "%v is mapped", got)
		require.Empty(t, got.Zone())
		if peer, _ := parsePeer(remote); peer == got {
			return
		}
		found := false
		for _, v := range []string{xff1, xff2} {
			for e := range strings.SplitSeq(v, ",") {
				if a, ok := parseHop(strings.Trim(e, " \t")); ok && a == got {
					found = true
				}
			}
		}
		require.True(t, found, "%v is neither the peer %q nor an entry of %q, %q", got, remote, xff1, xff2)
	})
}

func BenchmarkClientAddrOf(b *testing.B) {
	c := NewClientAddr(DefaultTrustedProxies)
	for _, bc := range []struct {
		name   string
		remote string
		xff    []string
	}{
		{"direct", "203.0.113.5:4000", nil},
		{"one proxy", "127.0.0.1:4000", []string{"198.51.100.1"}},
		{"forged chain", "10.0.0.2:4000", []string{"1.1.1.1, 2.2.2.2, 3.3.3.3, 198.51.100.1, 10.0.0.3"}},
		{"ipv6 via proxy", "[::1]:4000", []string{"2001:db8::1:2:3:4"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = c.Of(bc.remote, bc.xff)
			}
		})
	}
}
