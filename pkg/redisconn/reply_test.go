package redisconn

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestScanReply(t *testing.T) {
	cases := []struct {
		name    string
		reply   any
		wantErr bool
		wantN   int64
		wantS   string
		wantL   []string
	}{
		{name: "exact shape", reply: []any{int64(7), "x", []any{"a", "b"}}, wantN: 7, wantS: "x", wantL: []string{"a", "b"}},
		{name: "empty list", reply: []any{int64(0), "", []any{}}, wantL: []string{}},
		{name: "not an array", reply: "OK", wantErr: true},
		{name: "nil", reply: nil, wantErr: true},
		{name: "too short", reply: []any{int64(7), "x"}, wantErr: true},
		{name: "empty", reply: []any{}, wantErr: true},
		{name: "too long", reply: []any{int64(7), "x", []any{}, int64(1)}, wantErr: true},
		{name: "string for integer", reply: []any{"7", "x", []any{}}, wantErr: true},
		{name: "integer for string", reply: []any{int64(7), int64(8), []any{}}, wantErr: true},
		{name: "string for list", reply: []any{int64(7), "x", "a,b"}, wantErr: true},
		{name: "list holding an integer", reply: []any{int64(7), "x", []any{"a", int64(1)}}, wantErr: true},
		{name: "nil element", reply: []any{nil, "x", []any{}}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var n int64
			var s string
			var l []string
			err := ScanReply(tc.reply, &n, &s, &l)
			if tc.wantErr {
				require.Error(t, err)
				require.True(t, errors.Is(err, ErrReplyShape), "wraps ErrReplyShape: %v", err)
				require.Zero(t, n, "nothing stored")
				require.Zero(t, s, "nothing stored")
				require.Nil(t, l, "nothing stored")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantN, n)
			require.Equal(t, tc.wantS, s)
			require.Equal(t, tc.wantL, l)
		})
	}
}

func TestScanReplyAny(t *testing.T) {
	var state int64
	var rest any
	require.NoError(t, ScanReply([]any{int64(2), int64(40)}, &state, &rest))
	require.Equal(t, int64(2), state)
	require.Equal(t, int64(40), rest)
	require.ErrorIs(t, ScanReply([]any{int64(2)}, &state, &rest), ErrReplyShape)
	require.ErrorIs(t, ScanReply([]any{int64(2)}, new(float64)), ErrReplyShape, "an unsupported destination is an error")
}
