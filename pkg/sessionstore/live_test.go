package sessionstore

import (
	"errors"
	"strings"
	"testing"
)

// TestParsePiece: a piece's key is FILE/START-END with two 12-digit offsets, START < END, and a
// clean file path; anything else from a bucket is refused.
func TestParsePiece(t *testing.T) {
	for _, c := range []struct {
		name, key string
		want      Piece
		err       error
	}{
		{"a track's piece", "tracks/t1-ada.opus/000000000123-000000004567", Piece{"tracks/t1-ada.opus", 123, 4567}, nil},
		{"the mix's first piece", "mix.opus/000000000000-000000000001", Piece{"mix.opus", 0, 1}, nil},
		{"an empty range is no piece", "mix.opus/000000000005-000000000005", Piece{}, ErrBadPiece},
		{"a backward range is no piece", "mix.opus/000000000009-000000000005", Piece{}, ErrBadPiece},
		{"offsets of another width are refused", "mix.opus/0-5", Piece{}, ErrBadPiece},
		{"a sign is not a digit", "mix.opus/-00000000001-000000000005", Piece{}, ErrBadPiece},
		{"a key with no file is refused", "000000000000-000000000005", Piece{}, ErrBadPiece},
		{"a file path leaving the folder is refused", "../x/000000000000-000000000005", Piece{}, ErrBadKey},
		{"an empty segment is refused", "tracks//a/000000000000-000000000005", Piece{}, ErrBadKey},
	} {
		got, err := ParsePiece(c.key)
		if !errors.Is(err, c.err) || err == nil && got != c.want {
			t.Errorf("%s: ParsePiece(%q) = %+v, %v; want %+v, %v", c.name, c.key, got, err, c.want, c.err)
		}
		if err == nil && got.Name() != c.key {
			t.Errorf("%s: Name() = %q, want the key back", c.name, got.Name())
		}
	}
}

// TestJoinPlan: pieces join from byte 0 without a hole; overlapping pieces (a retried upload that
// carried more) add only their new bytes; a hole is reported with the spans before it.
func TestJoinPlan(t *testing.T) {
	p := func(s, e int64) Piece { return Piece{File: "f", Start: s, End: e} }
	for _, c := range []struct {
		name   string
		pieces []Piece
		size   int64
		spans  int
		hole   bool
	}{
		{"contiguous pieces in any order", []Piece{p(10, 20), p(0, 10), p(20, 25)}, 25, 3, false},
		{"a retry that carried more overlaps the first try", []Piece{p(0, 10), p(10, 15), p(10, 30)}, 30, 2, false},
		{"a piece inside another adds nothing", []Piece{p(0, 30), p(5, 10)}, 30, 1, false},
		{"a hole stops the join", []Piece{p(0, 10), p(12, 20)}, 10, 1, true},
		{"no first piece is a hole at 0", []Piece{p(5, 10)}, 0, 0, true},
		{"no pieces is an empty file", nil, 0, 0, false},
	} {
		spans, size, err := JoinPlan(c.pieces)
		var hole *MissingPieceError
		if size != c.size || len(spans) != c.spans || errors.As(err, &hole) != c.hole {
			t.Errorf("%s: %d spans, size %d, err %v; want %d, %d, hole %v", c.name, len(spans), size, err, c.spans, c.size, c.hole)
		}
	}
}

// FuzzPieces: keys listed from a bucket never make ParsePiece or JoinPlan panic, and a plan's
// spans cover [0, size) exactly once, in order, inside their pieces.
func FuzzPieces(f *testing.F) {
	f.Add("tracks/t1-ada.opus/000000000000-000000000100\ntracks/t1-ada.opus/000000000100-000000000200")
	f.Add("mix.opus/000000000000-000000000010\nmix.opus/000000000005-000000000030\nmix.opus/000000000040-000000000050")
	f.Add("a/../b/000000000000-000000000001")
	f.Fuzz(func(t *testing.T, keys string) {
		var ps []Piece
		for _, k := range strings.Split(keys, "\n") {
			p, err := ParsePiece(k)
			if err != nil {
				continue
			}
			if p.Name() != k {
				t.Fatalf("ParsePiece(%q).Name() = %q", k, p.Name())
			}
			ps = append(ps, p)
		}
		spans, size, _ := JoinPlan(ps)
		var at int64
		for _, sp := range spans {
			if sp.Piece.Start+sp.Skip != at || sp.Bytes <= 0 || sp.Skip < 0 || sp.Skip+sp.Bytes > sp.Piece.End-sp.Piece.Start {
				t.Fatalf("span %+v at %d", sp, at)
			}
			at += sp.Bytes
		}
		if at != size {
			t.Fatalf("spans cover %d bytes, size %d", at, size)
		}
	})
}
