// Package streamid owns Redis stream entry IDs as numbers: "<ms>-<seq>" parsed into two integers and compared
// as such, never as strings ("10-0" sorts before "9-0" as text). It does no I/O.
package streamid

import (
	"fmt"
	"strconv"
	"strings"
)

// ID is a stream entry ID.
type ID struct {
	Ms  uint64
	Seq uint64
}

// Parse reads "<ms>-<seq>" (or "<ms>", meaning seq 0).
func Parse(s string) (ID, error) {
	msPart, seqPart, hasSeq := strings.Cut(s, "-")
	ms, err := strconv.ParseUint(msPart, 10, 64)
	if err != nil {
		return ID{}, fmt.Errorf("stream id %q: %w", s, err)
	}
	var seq uint64
	if hasSeq {
		if seq, err = strconv.ParseUint(seqPart, 10, 64); err != nil {
			return ID{}, fmt.Errorf("stream id %q: %w", s, err)
		}
	}
	return ID{Ms: ms, Seq: seq}, nil
}

// MustParse is Parse for constants in tests.
func MustParse(s string) ID {
	id, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return id
}

// String is "<ms>-<seq>".
func (id ID) String() string {
	return strconv.FormatUint(id.Ms, 10) + "-" + strconv.FormatUint(id.Seq, 10)
}

// Compare returns -1, 0 or 1.
func (id ID) Compare(o ID) int {
	switch {
	case id.Ms < o.Ms:
		return -1
	case id.Ms > o.Ms:
		return 1
	case id.Seq < o.Seq:
		return -1
	case id.Seq > o.Seq:
		return 1
	}
	return 0
}

// Less reports id < o.
func (id ID) Less(o ID) bool { return id.Compare(o) < 0 }

// Next is the smallest ID after id.
func (id ID) Next() ID {
	if id.Seq == ^uint64(0) {
		return ID{Ms: id.Ms + 1}
	}
	return ID{Ms: id.Ms, Seq: id.Seq + 1}
}

// IsZero reports 0-0.
func (id ID) IsZero() bool { return id == ID{} }
