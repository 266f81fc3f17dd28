package audio

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestMixer(t *testing.T) {
	double := 20 * math.Log10(2)
	// mix builds fresh inputs on every call: runOpCases reads each case several times.
	type in struct {
		s   func() Stream
		off int64
		db  float64
	}
	mix := func(ins ...in) func() (Stream, error) {
		return func() (Stream, error) {
			m := NewMixer(Format{48000, 1})
			for _, i := range ins {
				if err := m.Add(i.s(), i.off, i.db); err != nil {
					return nil, err
				}
			}
			return m, nil
		}
	}
	sized := func(v ...float32) func() Stream { return func() Stream { return withLength(mono(v...)) } }
	bare := func(v ...float32) func() Stream { return func() Stream { return mono(v...) } }
	runOpCases(t, []opCase{
		{"inputs land at their offsets with their gains, silence between", mix(
			in{sized(1, 1), 0, 0},
			in{sized(2, 2), 3, double},
		), []float32{1, 1, 0, 4, 4}, 5},
		{"overlapping inputs are summed", mix(
			in{sized(1, 2, 3), 0, 0},
			in{sized(10, 20), 1, 0},
		), []float32{1, 12, 23}, 3},
		{"the mix ends with its latest input even if it is not the last added", mix(
			in{sized(1, 1, 1, 1), 0, 0},
			in{sized(5), 1, 0},
		), []float32{1, 6, 1, 1}, 4},
		{"an input that returns short reads is still placed exactly", mix(
			in{func() Stream { return &slice{f: Format{48000, 1}, data: ramp(7), failAt: -1, maxN: 2} }, 1, 0},
		), []float32{0, 1, 2, 3, 4, 5, 6, 7}, -1},
		{"an input of unknown length leaves the mix without Len", mix(
			in{bare(1), 0, 0},
			in{sized(1), 0, 0},
		), []float32{2}, -1},
		{"an empty mixer is an empty stream", mix(), []float32{}, 0},
	})
}

func TestMixerErrors(t *testing.T) {
	t.Run("an input's error is returned and names the input", func(t *testing.T) {
		m := NewMixer(Format{48000, 1})
		bad := mono(ramp(10)...)
		bad.failAt = 4
		if err := m.Add(mono(ramp(10)...), 0, 0); err != nil {
			t.Fatal(err)
		}
		if err := m.Add(bad, 2, 0); err != nil {
			t.Fatal(err)
		}
		_, err := readAllErr(m, 3)
		if !errors.Is(err, errBoom) || !strings.Contains(err.Error(), "input 1") {
			t.Fatalf("err = %v, want errBoom naming input 1", err)
		}
	})
	t.Run("an input of another format is refused", func(t *testing.T) {
		m := NewMixer(Format{48000, 1})
		if err := m.Add(stereo(1, 1), 0, 0); !errors.Is(err, ErrFormatMismatch) {
			t.Fatalf("err = %v, want ErrFormatMismatch", err)
		}
	})
	t.Run("inputs cannot be added once the mixer was read", func(t *testing.T) {
		m := NewMixer(Format{48000, 1})
		_ = m.Add(mono(1), 0, 0)
		readAll(t, m, 8)
		if err := m.Add(mono(1), 0, 0); !errors.Is(err, ErrStarted) {
			t.Fatalf("err = %v, want ErrStarted", err)
		}
	})
	t.Run("a negative offset is refused", func(t *testing.T) {
		if err := NewMixer(Format{48000, 1}).Add(mono(1), -1, 0); !errors.Is(err, ErrNegative) {
			t.Fatalf("err = %v, want ErrNegative", err)
		}
	})
}

// TestMixerLazy checks that an input is not touched before the output reaches its offset, which is
// what keeps a long session with late speakers flat in memory.
func TestMixerLazy(t *testing.T) {
	f := Format{48000, 2}
	m := NewMixer(f)
	late := &slice{f: f, data: make([]float32, 2*100), failAt: -1}
	hour := f.Frames(3600e9)
	if err := m.Add(Silence(f, hour), 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := m.Add(late, hour-50, 0); err != nil {
		t.Fatal(err)
	}
	buf := make([]float32, 2*4096)
	var got int64
	for got < hour-4096-50 {
		n, err := m.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got += int64(n / 2)
	}
	if late.reads != 0 {
		t.Fatalf("late input read %d times before its offset", late.reads)
	}
	rest := readAll(t, m, 4096)
	if total := got + int64(len(rest)/2); total != hour+50 {
		t.Fatalf("mix is %d frames, want %d", total, hour+50)
	}
	if late.reads == 0 {
		t.Fatal("late input never read")
	}
}
