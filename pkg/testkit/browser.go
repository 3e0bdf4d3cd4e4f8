package testkit

// BrowserUA is a desktop Chrome User-Agent. The API labels requests from tools (Go's HTTP client, curl,
// headless Chromium) as invalid traffic and counts them apart; tests that stand for visitors send this one.
const BrowserUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
