package studio

import (
	"io"
	"sync"

	"github.com/spacecast/spacecast/pkg/audio"
)

// prefetch decodes a stream on its own goroutine, a few blocks ahead of the reader, so decoding
// several inputs and encoding the output use both cores. Memory is bounded: depth blocks of
// blockFrames frames. Close stops the goroutine; it must be called.
type prefetch struct {
	f    audio.Format
	full chan block
	free chan []float32
	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
	cur  block
	off  int
	err  error
}

type block struct {
	buf []float32
	n   int
	err error
}

const (
	prefetchDepth  = 4
	prefetchFrames = 8192
)

func newPrefetch(s audio.Stream) *prefetch {
	f := s.Format()
	p := &prefetch{
		f:    f,
		full: make(chan block, prefetchDepth),
		free: make(chan []float32, prefetchDepth+1),
		stop: make(chan struct{}),
	}
	for i := 0; i < prefetchDepth+1; i++ {
		p.free <- make([]float32, prefetchFrames*f.Channels)
	}
	p.wg.Add(1)
	go p.run(s)
	return p
}

func (p *prefetch) run(s audio.Stream) {
	defer p.wg.Done()
	defer close(p.full)
	for {
		var buf []float32
		select {
		case buf = <-p.free:
		case <-p.stop:
			return
		}
		n, err := audio.ReadFull(s, buf)
		select {
		case p.full <- block{buf: buf, n: n, err: err}:
		case <-p.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

func (p *prefetch) Format() audio.Format { return p.f }

func (p *prefetch) Read(out []float32) (int, error) {
	for p.off >= p.cur.n {
		if p.err != nil {
			return 0, p.err
		}
		if p.cur.buf != nil {
			p.free <- p.cur.buf
			p.cur = block{}
		}
		b, ok := <-p.full
		if !ok {
			return 0, io.EOF
		}
		p.cur, p.off = b, 0
		p.err = b.err
	}
	n := copy(out, p.cur.buf[p.off:p.cur.n])
	p.off += n
	return n, nil
}

// Close stops the decoding goroutine and waits for it.
func (p *prefetch) Close() error {
	p.once.Do(func() { close(p.stop) })
	for range p.full {
	}
	p.wg.Wait()
	return nil
}
