package sessionstore

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// A session being recorded into a bucket lives under PREFIX/NAME/.live/ until it is finished
// (docs/session-format.md, "A session in a bucket"):
//
//	PREFIX/NAME/.live/manifest.json                          the spool's manifest, after the pieces it names
//	PREFIX/NAME/.live/tracks/t1-ada.opus/000000000000-000000061440   bytes [0, 61440) of tracks/t1-ada.opus
//	PREFIX/NAME/.live/tracks/t1-ada.opus/000000061440-000000081920   bytes [61440, 81920)
//	PREFIX/NAME/.live/mix.opus/000000000000-000000040960
//
// A piece is named by the byte range of the file it holds, START-END (END exclusive), each 12
// decimal digits, so that the keys list in file order and a reader sees a missing piece as a
// hole between one piece's END and the next one's START. Pieces of the same file may overlap (an
// upload retried after the store stored it but the answer was lost, with more bytes the second
// time): their common bytes are the same bytes of the same append-only file.

// LiveDir is the folder, under a session's prefix, of a session being recorded.
const LiveDir = ".live"

// pieceDigits is the width of each offset in a piece's name: offsets up to 10^12-1 bytes (a
// track of 1 TB: years of Opus).
const pieceDigits = 12

// MaxPieceOffset is the largest offset a piece's name holds.
const MaxPieceOffset = 999_999_999_999

// Piece is one uploaded stretch of a growing file: bytes [Start, End) of File (a slash path in the
// session folder).
type Piece struct {
	File       string
	Start, End int64
}

// Name is the piece's key below LiveDir: FILE/START-END.
func (p Piece) Name() string {
	return fmt.Sprintf("%s/%0*d-%0*d", p.File, pieceDigits, p.Start, pieceDigits, p.End)
}

// ParsePiece reads a key below LiveDir (FILE/START-END) as a Piece. The file must be a clean
// relative slash path (ErrBadKey otherwise) and the range well-formed: two numbers of exactly 12
// digits, START < END (ErrBadPiece otherwise). The keys come from a bucket: outside input.
func ParsePiece(rel string) (Piece, error) {
	i := strings.LastIndexByte(rel, '/')
	if i < 0 {
		return Piece{}, fmt.Errorf("%q: %w", rel, ErrBadPiece)
	}
	file, name := rel[:i], rel[i+1:]
	if err := checkRel(file); err != nil {
		return Piece{}, fmt.Errorf("%q: %w", rel, err)
	}
	a, b, ok := strings.Cut(name, "-")
	start, okA := offset(a)
	end, okB := offset(b)
	if !ok || !okA || !okB || start >= end {
		return Piece{}, fmt.Errorf("%q: %w", rel, ErrBadPiece)
	}
	return Piece{File: file, Start: start, End: end}, nil
}

// offset reads exactly pieceDigits decimal digits.
func offset(s string) (int64, bool) {
	if len(s) != pieceDigits {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// Span is a stretch of a joined file and where its bytes are: From bytes in piece Piece, starting
// at Skip bytes into it.
type Span struct {
	Piece Piece
	Skip  int64 // bytes of the piece before the span (they are in the file already)
	Bytes int64
}

// JoinPlan says how the pieces of one file make the file: the spans, in order, that together
// hold bytes [0, size) without a hole. Pieces that add nothing (inside what others hold) are left
// out. A hole (a piece missing) is a *MissingPieceError: the spans up to it are returned with it,
// so that a reader may keep what comes before.
func JoinPlan(pieces []Piece) (spans []Span, size int64, err error) {
	ps := slices.Clone(pieces)
	slices.SortFunc(ps, func(a, b Piece) int {
		if c := cmp.Compare(a.Start, b.Start); c != 0 {
			return c
		}
		return cmp.Compare(b.End, a.End) // the longest first
	})
	for _, p := range ps {
		if p.Start > size {
			return spans, size, &MissingPieceError{File: p.File, From: size, To: p.Start}
		}
		if p.End <= size {
			continue
		}
		spans = append(spans, Span{Piece: p, Skip: size - p.Start, Bytes: p.End - size})
		size = p.End
	}
	return spans, size, nil
}
