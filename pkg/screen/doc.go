// Package screen owns the rules that label a tracking request as valid traffic or as general invalid traffic,
// with the reason why, and the cache that keeps those rules cheap. It reads request headers only. It never
// talks to Redis or MariaDB, never sees the event payload, and never refuses a request: it only labels, and
// what a label changes (counted as valid or as filtered under its reason) is for the caller to decide.
//
// # What it catches, and what it does not
//
// The reasons are kinds of general invalid traffic (GIVT) as the IAB/MRC invalid traffic guidelines define
// it: traffic that routine checks against lists and parameters identify — known crawlers and spiders,
// non-browser user agents, pre-fetched and pre-rendered pages. The checks are deterministic and read only the
// request's headers. Sophisticated invalid traffic (SIVT) — bots and fraud that imitate browsers, hijacked
// devices, IP and data-centre reputation, behaviour over time — is out of scope: a request that presents a
// browser's user agent and no purpose header is valid here.
//
// # The reasons, in the order they are checked
//
// A request gets the first enabled reason whose rule fires, or "" (valid) when none does. A reason left out of
// Options.Enabled is skipped: a request it would have caught falls through to the later checks (HeadlessChrome
// with headless off is a crawler, since crawlerdetect lists it too; curl with crawler off is non_browser).
// Headers are read under their canonical names, as net/http stores them; the user agent is the first
// User-Agent value. "Ignoring case" below means ASCII case only.
//
//  1. prefetch: a Sec-Purpose, Purpose, X-Purpose or X-Moz header value holds the token prefetch, prerender or
//     preview, ignoring case. Values are split at ',' and ';' and each part is trimmed of spaces and tabs
//     before comparing, so Chrome's "Sec-Purpose: prefetch;prerender" and "Sec-Purpose: prefetch" match,
//     as do "Purpose: prefetch" (older Chrome), "X-Purpose: preview" (Safari) and "X-Moz: prefetch"
//     (Firefox); a token inside a parameter's value ("x=prefetch") does not. These are fetches that no one
//     has seen (yet); a prerendered page that is then shown makes its later requests without the header.
//  2. no_user_agent: the User-Agent header is missing, empty, or Unicode white space only. Every browser
//     sends one.
//  3. headless: the user agent contains, ignoring case, one of HeadlessChrome (Chrome run headless, as by
//     Puppeteer, Playwright or Selenium), PhantomJS, SlimerJS, Electron/ or jsdom/.
//     Electron also runs desktop applications, whose requests are labelled headless as well. Automation that
//     replaces its user agent with a browser's is not caught (that is sophisticated invalid traffic).
//  4. link_preview: the user agent contains, ignoring case, one of Slackbot (also Slackbot-LinkExpanding),
//     Slack-ImgProxy, facebookexternalhit, Facebot, WhatsApp, Discordbot, TelegramBot, Twitterbot,
//     LinkedInBot, SkypeUriPreview (Skype, Teams), MicrosoftPreview, Pinterestbot, redditbot, Embedly,
//     Iframely, "Snap URL Preview" (Snapchat), Cardyb (Bluesky), vkShare or Mastodon/. These fetch a page to
//     draw a link's card in a chat or feed. Apple Messages announces itself as facebookexternalhit and
//     Twitterbot and lands here too. Applebot is not here: it is Apple's search crawler, so it is a crawler.
//     Most of these fetchers are also on crawlerdetect's list; checking them first gives them their own
//     reason.
//  5. crawler: crawlerdetect.IsCrawler (github.com/x-way/crawlerdetect, the pattern list of the Crawler-Detect
//     project) says so: search engines (Googlebot, bingbot, YandexBot, Applebot), SEO tools (AhrefsBot,
//     SemrushBot), uptime monitors, and the HTTP libraries and tools it lists (curl, Wget, python-requests,
//     Go-http-client, okhttp, Java/, axios, node-fetch, PostmanRuntime …).
//  6. non_browser: the user agent does not start with "Mozilla/" or "Opera/" (compared case-sensitively),
//     one of which every browser sends. This catches the clients crawlerdetect does not list, such as
//     Android's Dalvik/ or an app's own "Name/1.0 CFNetwork/…". A deployment whose own servers or apps call
//     the API with a library's user agent should leave crawler and non_browser disabled, or those calls are
//     filtered.
//
// # The cache
//
// crawlerdetect's regular expressions take longer the longer the user agent: on an idle 2-core AMD EPYC
// server, about 20 µs for curl's, 110 µs for a desktop Chrome's, 0.6 ms for a Facebook in-app browser's and
// 1.5 ms for 512 random letters (two to three times that on a busy one). So the answer of the user-agent checks (3 to 6, as enabled)
// is remembered per user agent; the header checks (1, 2) cost a few comparisons and run on every request.
// The user-agent checks read only the first 512 bytes of the user agent: browsers and the fetchers above send
// fewer, and a longer value costs no more than that to check or to remember. A marker beyond the 512th byte
// is therefore not seen. Since the rules see only that prefix, the prefix is the cache key, and a remembered
// answer is the answer the rules give — FuzzClassify checks exactly that against the uncached rules.
//
// The cache cannot help against a client that sends a new user agent with every request: each such request
// pays for the rules, milliseconds of CPU at worst. Limiting such a client's rate is for the layer in front.
//
// The cache holds at most Options.CacheSize user agents (DefaultCacheSize, 10000, when unset) in up to 16
// shards, each with its own lock and an equal share of the bound. A key is a copy of at most 512 bytes, so
// keys take at most CacheSize × 512 bytes (about 5 MB by default) on top of the maps. A shard that is full
// when a new user agent arrives is emptied first, so a flood of distinct user agents costs memory no more
// than the bound and costs the common user agents one more miss each per emptying. A hit takes a read lock
// and does not allocate.
package screen
