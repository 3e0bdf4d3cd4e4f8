package dashboard

import (
	"net/url"
	"strconv"
)

// links builds every URL the page shows, and the hidden fields of its forms. Links to the page itself keep
// the query as the request gave it (a preset stays a preset, "last 7 days" stays so when bookmarked) but for
// what they change, and are relative ("?…"), so the page works wherever it is mounted. Export links ask the
// JSON API for exactly what is shown: the resolved range, the ad, the order, the limit, format=csv.
type links struct {
	q                  query
	rng                Range
	api                string // Options.APIBase
	adLimit, pathLimit int
}

// field is a hidden form field.
type field struct{ Name, Value string }

// values is the query as given, valid parameters only, without empty ones.
func (l links) values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	if l.q.Preset != 0 {
		v.Set(paramPreset, strconv.Itoa(l.q.Preset))
	} else {
		set(paramFrom, l.q.From)
		set(paramTo, l.q.To)
	}
	if l.q.AdID != 0 {
		v.Set(paramAdID, strconv.FormatInt(l.q.AdID, 10))
	}
	set(paramSort, l.q.Sort)
	set(paramPrefix, l.q.Prefix)
	return v
}

func (l links) page(change func(url.Values)) string {
	v := l.values()
	change(v)
	return "?" + v.Encode()
}

// preset shows the days days ending today, with the rest of the query.
func (l links) preset(days int) string {
	return l.page(func(v url.Values) {
		v.Del(paramFrom)
		v.Del(paramTo)
		v.Set(paramPreset, strconv.Itoa(days))
	})
}

// sortBy orders the ad table by key: the other direction when it is already sorted by key, else descending
// for a figure and ascending for the ad's id.
func (l links) sortBy(key string) string {
	next := "-" + key
	switch cur := l.q.sort(); {
	case cur == "-"+key:
		next = key
	case cur == key:
		next = "-" + key
	case key == sortAdID:
		next = key
	}
	return l.page(func(v url.Values) { v.Set(paramSort, next) })
}

// allAds drops the ad filter.
func (l links) allAds() string { return l.page(func(v url.Values) { v.Del(paramAdID) }) }

// hidden are the fields a form carries along so that submitting it keeps the rest of the query; drop names
// those the form sets itself.
func (l links) hidden(drop ...string) []field {
	v := l.values()
	for _, k := range drop {
		v.Del(k)
	}
	var out []field
	for _, k := range []string{paramPreset, paramFrom, paramTo, paramAdID, paramSort, paramPrefix} {
		if s := v.Get(k); s != "" {
			out = append(out, field{k, s})
		}
	}
	return out
}

// rangeValues are the resolved range and the ad, as every range export takes them.
func (l links) rangeValues() url.Values {
	v := url.Values{}
	v.Set(paramFrom, formatDate(l.rng.From))
	v.Set(paramTo, formatDate(l.rng.To))
	if l.q.AdID != 0 {
		v.Set(paramAdID, strconv.FormatInt(l.q.AdID, 10))
	}
	return v
}

func (l links) export(endpoint string, v url.Values) string {
	v.Set("format", "csv")
	return l.api + "/" + endpoint + "?" + v.Encode()
}

// summaryCSV is the daily series (GET /summary).
func (l links) summaryCSV() string { return l.export("summary", l.rangeValues()) }

// adsCSV is the ad table (GET /ads), in the order shown.
func (l links) adsCSV() string {
	v := l.rangeValues()
	v.Set(paramSort, l.q.sort())
	v.Set("limit", strconv.Itoa(l.adLimit))
	return l.export("ads", v)
}

// pathsCSV is the path table (GET /paths).
func (l links) pathsCSV() string {
	v := url.Values{}
	if l.q.Prefix != "" {
		v.Set(paramPrefix, l.q.Prefix)
	}
	v.Set("limit", strconv.Itoa(l.pathLimit))
	return l.export("paths", v)
}
