package screen

import (
	"net/http"
	"strings"

	"github.com/x-way/crawlerdetect"
)

// maxUserAgent is how many leading bytes of the user agent the user-agent checks read, and so the longest
// key of the cache.
const maxUserAgent = 512

// purposeHeaders carry the browsers' announcements of a speculative fetch, in canonical form.
var purposeHeaders = [...]string{"Sec-Purpose", "Purpose", "X-Purpose", "X-Moz"}

// purposeTokens are the values of purposeHeaders that mark a speculative fetch, in lower case.
var purposeTokens = [...]string{"prefetch", "prerender", "preview"}

// headlessMarkers, in lower case, are the user-agent fragments of headless and automated browsers.
var headlessMarkers = [...]string{
	"headlesschrome", // Chrome run headless, as by Puppeteer, Playwright or Selenium
	"phantomjs",
	"slimerjs",
	"electron/", // Electron's default user agent (Nightmare, Cypress's bundled browser, desktop applications)
	"jsdom/",
}

// linkPreviewMarkers, in lower case, are the user-agent fragments of the fetchers that build a link's preview
// card in a chat, social network or mail client.
var linkPreviewMarkers = [...]string{
	"slackbot", // Slackbot, Slackbot-LinkExpanding
	"slack-imgproxy",
	"facebookexternalhit", // also Apple Messages, which sends "facebookexternalhit/1.1 Facebot Twitterbot/1.0"
	"facebot",
	"whatsapp",
	"discordbot",
	"telegrambot",
	"twitterbot",
	"linkedinbot",
	"skypeuripreview", // Skype and Microsoft Teams
	"microsoftpreview",
	"pinterestbot",
	"redditbot",
	"embedly",
	"iframely",
	"snap url preview", // Snapchat
	"cardyb",           // Bluesky
	"vkshare",
	"mastodon/",
}

// isUserAgentCheck reports whether r is decided by the clipped user agent alone, and so is cached.
func isUserAgentCheck(r Reason) bool {
	switch r {
	case Headless, LinkPreview, Crawler, NonBrowser:
		return true
	}
	return false
}

// matchUserAgent reports whether the user-agent rule of r fires for ua, which is already clipped.
func matchUserAgent(r Reason, ua string) bool {
	switch r {
	case Headless:
		return containsAnyFold(ua, headlessMarkers[:])
	case LinkPreview:
		return containsAnyFold(ua, linkPreviewMarkers[:])
	case Crawler:
		return crawlerdetect.IsCrawler(ua)
	case NonBrowser:
		return !strings.HasPrefix(ua, "Mozilla/") && !strings.HasPrefix(ua, "Opera/")
	}
	return false
}

// userAgent is the first User-Agent value of h, or "".
func userAgent(h http.Header) string {
	if v := h["User-Agent"]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// clip cuts ua to the bytes the user-agent checks read.
func clip(ua string) string {
	if len(ua) > maxUserAgent {
		return ua[:maxUserAgent]
	}
	return ua
}

// isBlank reports whether ua is empty or Unicode white space only.
func isBlank(ua string) bool {
	return strings.TrimSpace(ua) == ""
}

// isPrefetch reports whether a value of one of purposeHeaders holds one of purposeTokens as an item or a
// parameter: the value is split at ',' and ';', each part trimmed of spaces and tabs and compared ignoring
// ASCII case. So "prefetch;prerender" (Chrome's prerender) and "prefetch; anonymous-client-ip" match, and
// "x=prefetch" does not.
func isPrefetch(h http.Header) bool {
	for _, name := range purposeHeaders {
		for _, v := range h[name] {
			for v != "" {
				i := strings.IndexAny(v, ",;")
				part := v
				if i >= 0 {
					part, v = v[:i], v[i+1:]
				} else {
					v = ""
				}
				part = strings.Trim(part, " \t")
				for _, tok := range purposeTokens {
					if equalFoldASCII(part, tok) {
						return true
					}
				}
			}
		}
	}
	return false
}

// containsAnyFold reports whether s contains one of the lower-case markers, ignoring ASCII case.
func containsAnyFold(s string, markers []string) bool {
	for _, m := range markers {
		for i := 0; i+len(m) <= len(s); i++ {
			if equalFoldASCII(s[i:i+len(m)], m) {
				return true
			}
		}
	}
	return false
}

// equalFoldASCII reports whether s equals lower, which is lower case, ignoring ASCII case only: unlike
// strings.EqualFold, the Kelvin sign is not a 'k'.
func equalFoldASCII(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
