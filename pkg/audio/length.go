package audio

// Length returns s's total length in frames when s implements Lengther. A negative Len means
// "unknown" (a Mixer reports −1 when one of its inputs has no length) and gives ok == false.
func Length(s Stream) (frames int64, ok bool) {
	l, ok := s.(Lengther)
	if !ok {
		return 0, false
	}
	n := l.Len()
	return max(n, 0), n >= 0
}

// sized gives a wrapper a Len when its length is known at construction. Wrappers whose length
// is unknown are returned bare, so a type assertion to Lengther tells the truth.
type sized struct {
	Stream
	frames int64
}

func (s *sized) Len() int64 { return s.frames }

// withLen returns s with a Len of frames when ok, else s itself.
func withLen(s Stream, frames int64, ok bool) Stream {
	if !ok {
		return s
	}
	return &sized{Stream: s, frames: frames}
}

// lengths sums the lengths of ss; ok is false when any of them has none.
func lengths(ss []Stream) (total int64, ok bool) {
	for _, s := range ss {
		n, ok := Length(s)
		if !ok {
			return 0, false
		}
		total += n
	}
	return total, true
}
