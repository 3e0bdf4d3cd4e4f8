package screen

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// header builds request headers from name/value pairs, as net/http would store them.
func header(ua string, kv ...string) http.Header {
	h := http.Header{}
	h.Set("User-Agent", ua)
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		h    http.Header
		want Reason
	}{
		{"chrome windows", header(chromeWindows), ""},
		{"chrome mac", header(chromeMac), ""},
		{"firefox windows", header(firefoxWindows), ""},
		{"firefox linux", header(firefoxLinux), ""},
		{"safari mac", header(safariMac), ""},
		{"safari iphone", header(safariIPhone), ""},
		{"safari ipad", header(safariIPad), ""},
		{"chrome iphone", header(chromeIPhone), ""},
		{"chrome android", header(chromeAndroid), ""},
		{"android webview", header(webViewAndroid), ""},
		{"edge", header(edgeWindows), ""},
		{"samsung internet", header(samsung), ""},
		{"opera", header(operaWindows), ""},
		{"opera presto", header(operaPresto), ""},
		{"facebook in-app browser", header(facebookInApp), ""},
		{"pinterest in-app browser", header(pinterestInApp), ""},

		{"googlebot", header(googlebot), Crawler},
		{"googlebot smartphone", header(googlebotMobile), Crawler},
		{"bingbot", header(bingbot), Crawler},
		{"ahrefsbot", header(ahrefsBot), Crawler},
		{"yandexbot", header(yandexBot), Crawler},
		{"semrushbot", header(semrushBot), Crawler},
		{"applebot", header(applebot), Crawler},
		{"uptimerobot", header(uptimeRobot), Crawler},

		{"headless chrome", header(headlessChrome), Headless},
		{"phantomjs", header(phantomJS), Headless},
		{"slimerjs", header(slimerJS), Headless},
		{"electron", header(electron), Headless},
		{"jsdom", header(jsdom), Headless},
		{"headless in another case", header(strings.ToLower(headlessChrome)), Headless},

		{"curl", header(curl), Crawler},
		{"python-requests", header(pythonRequests), Crawler},
		{"go-http-client", header(goHTTP), Crawler},
		{"wget", header(wget), Crawler},
		{"okhttp", header(okhttp), Crawler},
		{"java", header(javaHTTP), Crawler},
		{"axios", header(axios), Crawler},
		{"node-fetch", header(nodeFetch), Crawler},
		{"postman", header(postman), Crawler},
		{"dalvik", header(dalvik), NonBrowser},
		{"ios app", header(cfNetwork), NonBrowser},
		{"dash", header("-"), NonBrowser},
		{"lower-case mozilla", header("mozilla/5.0 (Windows NT 10.0)"), NonBrowser},
		{"leading space", header(" " + chromeWindows), NonBrowser},
		{"bare mozilla", header("Mozilla/5.0"), ""},

		{"empty user agent", header(""), NoUserAgent},
		{"no user agent header", http.Header{}, NoUserAgent},
		{"white space user agent", header(" \t\u00a0"), NoUserAgent},
		{"second user agent ignored", http.Header{"User-Agent": {"", chromeWindows}}, NoUserAgent},

		{"sec-purpose prerender", header(chromeWindows, "Sec-Purpose", "prefetch;prerender"), Prefetch},
		{"sec-purpose prefetch", header(chromeWindows, "Sec-Purpose", "prefetch"), Prefetch},
		{"sec-purpose with parameter", header(chromeWindows, "Sec-Purpose", "prefetch; anonymous-client-ip"), Prefetch},
		{"purpose", header(chromeWindows, "Purpose", "prefetch"), Prefetch},
		{"x-purpose", header(safariMac, "X-Purpose", "preview"), Prefetch},
		{"x-moz", header(firefoxWindows, "X-Moz", "prefetch"), Prefetch},
		{"purpose upper case", header(chromeWindows, "Purpose", "PREFETCH"), Prefetch},
		{"purpose padded", header(chromeWindows, "Sec-Purpose", " \tPrefetch\t "), Prefetch},
		{"purpose in a list", header(chromeWindows, "Sec-Purpose", "something, prerender"), Prefetch},
		{"purpose in a second value", header(chromeWindows, "Purpose", "other", "Purpose", "prefetch"), Prefetch},
		{"purpose first, before the user agent", header(curl, "Purpose", "prefetch"), Prefetch},
		{"purpose other token", header(chromeWindows, "Sec-Purpose", "prefetched"), ""},
		{"purpose in a parameter value", header(chromeWindows, "Sec-Purpose", "x=prefetch"), ""},
		{"purpose empty", header(chromeWindows, "Sec-Purpose", ""), ""},
		{"purpose Kelvin sign is not k", header(chromeWindows, "X-Moz", "prefetch\u212a"), ""},
		{"prefetch in another header", header(chromeWindows, "Accept", "prefetch"), ""},
	}
	for _, ua := range linkPreviewFetchers {
		tests = append(tests, struct {
			name string
			h    http.Header
			want Reason
		}{"link preview " + ua, header(ua), LinkPreview})
	}
	s := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, s.Classify(tt.h), "first call")
			require.Equal(t, tt.want, s.Classify(tt.h), "cached")
			require.Equal(t, tt.want, reference(nil, tt.h), "uncached rules")
		})
	}
}

// TestFallThrough switches each reason off and checks that a request it caught gets the next enabled reason.
func TestFallThrough(t *testing.T) {
	all := func(but ...Reason) []Reason {
		var out []Reason
		for _, r := range Reasons {
			if !contains(but, r) {
				out = append(out, r)
			}
		}
		return out
	}
	tests := []struct {
		name    string
		enabled []Reason
		h       http.Header
		want    Reason
	}{
		{"prefetch off: chrome is valid", all(Prefetch), header(chromeWindows, "Sec-Purpose", "prefetch;prerender"), ""},
		{"prefetch off: curl is a crawler", all(Prefetch), header(curl, "Purpose", "prefetch"), Crawler},
		{"no_user_agent off: empty is non_browser", all(NoUserAgent), header(""), NonBrowser},
		{"no_user_agent and non_browser off: empty is valid", all(NoUserAgent, NonBrowser), header(""), ""},
		{"headless off: headless chrome is a crawler", all(Headless), header(headlessChrome), Crawler},
		{"headless and crawler off: headless chrome is valid", all(Headless, Crawler), header(headlessChrome), ""},
		{"headless off: electron is valid", all(Headless), header(electron), ""},
		{"link_preview off: facebook is a crawler", all(LinkPreview), header(facebookHit), Crawler},
		{"link_preview off: bluesky is valid", all(LinkPreview), header(bluesky), ""},
		{"link_preview and crawler off: whatsapp is non_browser", all(LinkPreview, Crawler), header(whatsApp), NonBrowser},
		{"crawler off: curl is non_browser", all(Crawler), header(curl), NonBrowser},
		{"crawler off: googlebot is valid", all(Crawler), header(googlebot), ""},
		{"non_browser off: dalvik is valid", all(NonBrowser), header(dalvik), ""},
		{"non_browser off: curl is still a crawler", all(NonBrowser), header(curl), Crawler},
		{"only non_browser: curl", []Reason{NonBrowser}, header(curl), NonBrowser},
		{"only prefetch: curl is valid", []Reason{Prefetch}, header(curl), ""},
		{"none: prefetched empty user agent is valid", []Reason{}, header("", "Sec-Purpose", "prefetch"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{Enabled: tt.enabled})
			require.Equal(t, tt.want, s.Classify(tt.h))
			require.Equal(t, tt.want, s.Classify(tt.h), "cached")
			require.Equal(t, tt.want, reference(tt.enabled, tt.h), "uncached rules")
		})
	}
}

// Most link-preview fetchers are on crawlerdetect's list as well, as the package documentation says;
// checking them first is what gives them their own reason.
func TestLinkPreviewMostlyCrawlers(t *testing.T) {
	crawlers := New(Options{Enabled: []Reason{Crawler}})
	n := 0
	for _, ua := range linkPreviewFetchers {
		if crawlers.Classify(header(ua)) == Crawler {
			n++
		}
	}
	require.Greater(t, n, len(linkPreviewFetchers)/2)
}

// The user-agent checks read the first maxUserAgent bytes only, and remember one answer for them.
func TestLongUserAgent(t *testing.T) {
	s := New(Options{})
	pad := chromeWindows + strings.Repeat(" x", maxUserAgent)
	require.Equal(t, Reason(""), s.Classify(header(pad+" HeadlessChrome/131")), "marker beyond the limit")
	require.Equal(t, Reason(""), s.Classify(header(pad+" Googlebot/2.1")), "same prefix, same answer")
	require.Equal(t, Headless, s.Classify(header(headlessChrome+strings.Repeat(" x", maxUserAgent))))
	require.Equal(t, NoUserAgent, s.Classify(header(strings.Repeat(" ", 10*maxUserAgent))))
	require.Equal(t, NonBrowser, s.Classify(header(strings.Repeat(" ", maxUserAgent)+chromeWindows)),
		"not blank, but its first bytes are")
	require.Equal(t, 3, s.cache.count())
}

func TestClassifyHitDoesNotAllocate(t *testing.T) {
	s := New(Options{})
	h := header(chromeWindows, "Sec-Purpose", "other")
	require.Equal(t, Reason(""), s.Classify(h))
	allocs := testing.AllocsPerRun(100, func() { s.Classify(h) })
	require.Zero(t, allocs)
}

func TestNew(t *testing.T) {
	require.PanicsWithValue(t, `screen: unknown reason "bot"`, func() { New(Options{Enabled: []Reason{"bot"}}) })
	require.Nil(t, New(Options{Enabled: []Reason{Prefetch, NoUserAgent}}).cache, "no user-agent check, no cache")
	require.Equal(t, DefaultCacheSize, totalLimit(New(Options{}).cache))
	require.Equal(t, DefaultCacheSize, totalLimit(New(Options{CacheSize: -1}).cache))
	require.Equal(t, 3, totalLimit(New(Options{CacheSize: 3}).cache))
}

// Reasons is a copy: changing it changes nothing in a Screen.
func TestReasonsIsACopy(t *testing.T) {
	require.Equal(t, []Reason{Prefetch, NoUserAgent, Headless, LinkPreview, Crawler, NonBrowser}, Reasons)
	saved := Reasons[0]
	Reasons[0] = NonBrowser
	defer func() { Reasons[0] = saved }()
	require.Equal(t, Prefetch, New(Options{}).Classify(header(chromeWindows, "Purpose", "prefetch")))
}

func totalLimit(c *cache) int {
	n := 0
	for i := range c.shards {
		n += c.shards[i].limit
	}
	return n
}

func contains(rs []Reason, r Reason) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}
