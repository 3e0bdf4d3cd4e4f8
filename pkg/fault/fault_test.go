package fault

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	tests := []struct {
		spec    string
		want    Spec
		n       int64
		wantErr string
	}{
		{spec: "", want: Spec{}, n: 1},
		{spec: "after_commit", want: Spec{Point: "after_commit"}, n: 1},
		{spec: "after_commit:3", want: Spec{Point: "after_commit", Arg: "3"}, n: 3},
		{spec: "nowhere", wantErr: "the point must be one of after_commit, mid_ack"},
		{spec: "mid_ack:0", want: Spec{Point: "mid_ack", Arg: "0"}, wantErr: "N must be a positive integer"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := Parse(tt.spec, "after_commit", "mid_ack")
			if err != nil {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.Equal(t, tt.want, got)
			n, err := got.N()
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.n, n)
		})
	}
}

func TestOnNth(t *testing.T) {
	calls := 0
	hook := OnNth(3, func() { calls++ })
	for range 5 {
		hook()
	}
	require.Equal(t, 1, calls, "fires once, on the third call")
}
