package screen

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseReasons(t *testing.T) {
	tests := []struct {
		in   string
		want []Reason
	}{
		{"all", Reasons},
		{" all ", Reasons},
		{"none", []Reason{}},
		{"crawler", []Reason{Crawler}},
		{"non_browser, prefetch", []Reason{Prefetch, NonBrowser}},
		{"crawler,crawler", []Reason{Crawler}},
		{"prefetch,no_user_agent,headless,link_preview,crawler,non_browser", Reasons},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseReasons(tt.in)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.NotNil(t, got, "nil would enable all in Options")
		})
	}
}

func TestParseReasonsNoneEnablesNothing(t *testing.T) {
	none, err := ParseReasons("none")
	require.NoError(t, err)
	require.Equal(t, Reason(""), New(Options{Enabled: none}).Classify(header("")))
}

func TestParseReasonsErrors(t *testing.T) {
	for _, in := range []string{"", " ", "bot", "crawler,bot", "crawler,", "all,crawler", "none,crawler", "Crawler"} {
		t.Run(in, func(t *testing.T) {
			_, err := ParseReasons(in)
			require.ErrorIs(t, err, ErrBadReason)
			require.ErrorContains(t, err,
				"all, none, or a comma list of prefetch, no_user_agent, headless, link_preview, crawler, non_browser")
		})
	}
}
