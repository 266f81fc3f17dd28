package lame_test

import (
	"errors"
	"os"
	"time"

	"github.com/spacecast/spacecast/pkg/audio"
	"github.com/spacecast/spacecast/pkg/codec/id3"
	"github.com/spacecast/spacecast/pkg/codec/lame"
)

// An episode with a title and chapters: the ID3v2 tag goes in Prefix, and Close writes the LAME
// tag right after it, so players trim the encoder delay and padding.
func ExampleNewWriter() {
	tag := &id3.Tag{Title: "Episode 1", Chapters: []id3.Chapter{{Title: "Intro", End: time.Minute}}}
	prefix, err := tag.Marshal()
	if err != nil {
		return
	}
	f, err := os.Create("episode.mp3")
	if err != nil {
		return
	}
	w, err := lame.NewWriter(f, audio.Format{SampleRate: 48000, Channels: 1}, lame.Options{BitrateKbps: 64, Prefix: prefix})
	if err != nil {
		f.Close()
		return
	}
	err = w.Write(make([]float32, 48000)) // one second of silence
	err = errors.Join(err, w.Close(), f.Close())
	_ = err
}
