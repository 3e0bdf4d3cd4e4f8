package redisconn

import (
	"errors"
	"fmt"
)

// ErrReplyShape is wrapped by ScanReply when a script's reply is not what its caller expects: a script of
// another version still cached, a Redis proxy that rewrote the reply, or a bug. It is an error, never a
// panic, whatever Redis sends.
var ErrReplyShape = errors.New("unexpected script reply")

// ScanReply checks the shape of a script's array reply and stores its elements in dst, one pointer an
// element: *int64 (a Lua number), *string (a Lua string), *[]string (an array of strings) or *any (anything).
// reply must be an array of exactly len(dst) elements of those types; otherwise nothing is stored and the
// error wraps ErrReplyShape.
func ScanReply(reply any, dst ...any) error {
	arr, ok := reply.([]any)
	if !ok {
		return fmt.Errorf("%w: %T, not an array", ErrReplyShape, reply)
	}
	if len(arr) != len(dst) {
		return fmt.Errorf("%w: %d elements, not %d", ErrReplyShape, len(arr), len(dst))
	}
	for i, d := range dst {
		if !fits(arr[i], d) {
			return fmt.Errorf("%w: element %d is %T, not %s", ErrReplyShape, i, arr[i], want(d))
		}
	}
	for i, d := range dst {
		switch d := d.(type) {
		case *int64:
			*d = arr[i].(int64)
		case *string:
			*d = arr[i].(string)
		case *[]string:
			elems := arr[i].([]any)
			*d = make([]string, len(elems))
			for j, e := range elems {
				(*d)[j] = e.(string)
			}
		case *any:
			*d = arr[i]
		}
	}
	return nil
}

// fits reports whether v can be stored in dst.
func fits(v, dst any) bool {
	switch dst.(type) {
	case *int64:
		_, ok := v.(int64)
		return ok
	case *string:
		_, ok := v.(string)
		return ok
	case *[]string:
		elems, ok := v.([]any)
		for _, e := range elems {
			if _, isStr := e.(string); !isStr {
				return false
			}
		}
		return ok
	case *any:
		return true
	default:
		return false
	}
}

func want(dst any) string {
	switch dst.(type) {
	case *int64:
		return "an integer"
	case *string:
		return "a string"
	case *[]string:
		return "an array of strings"
	case *any:
		return "anything"
	default:
		return fmt.Sprintf("storable in %T", dst)
	}
}
