package edit

import "time"

// Segment says that the input's [Old.Start, Old.End) plays at New in the output.
type Segment struct {
	Old Range         `json:"-"`
	New time.Duration `json:"-"`
}

// TimeMap maps times of an input to times of an output made of kept segments played in order.
// Times inside a removed stretch map to the start of the next kept segment: a chapter that
// started in a cut begins where the audio resumes.
type TimeMap struct {
	Segments []Segment
}

// KeepMap builds the map for playing the kept ranges (sorted, disjoint) back to back.
func KeepMap(keep []Range) TimeMap {
	var m TimeMap
	at := time.Duration(0)
	for _, k := range keep {
		m.Segments = append(m.Segments, Segment{Old: k, New: at})
		at += k.Len()
	}
	return m
}

// Map returns where t of the input lands in the output, and whether t itself was kept.
func (m TimeMap) Map(t time.Duration) (time.Duration, bool) {
	for _, s := range m.Segments {
		if t < s.Old.Start {
			return s.New, false
		}
		if t < s.Old.End {
			return s.New + (t - s.Old.Start), true
		}
	}
	return m.Len(), false
}

// Len is the output's duration.
func (m TimeMap) Len() time.Duration {
	if n := len(m.Segments); n > 0 {
		last := m.Segments[n-1]
		return last.New + last.Old.Len()
	}
	return 0
}

// MapRange maps a range, clipping it to what was kept: a soundbite that straddles a cut keeps
// its kept part only if that part is contiguous in the output. ok is false when nothing of r survives.
func (m TimeMap) MapRange(r Range) (Range, bool) {
	start, startKept := m.Map(r.Start)
	end, _ := m.Map(r.End)
	if !startKept && end <= start {
		return Range{}, false
	}
	if end <= start {
		return Range{}, false
	}
	return Range{start, end}, true
}
