package studio

import (
	"encoding/json"

	"github.com/spacecast/spacecast/pkg/edit"
)

// The JSON of studio's results and of the TXXX "spacecast" frame (Meta) gives every time as a
// number of seconds under a key ending in "_seconds" (docs/mix.md, clip.md, trim.md, inspect.md,
// session-format.md), while the Go types hold time.Duration. Each type with a time encodes
// through a twin below that lists its keys in the documented order; edit.InSeconds and
// edit.Seconds are the one conversion each way.

var (
	seconds  = edit.InSeconds
	duration = edit.Seconds
)

// decode unmarshals data into the twin T and hands it to set.
func decode[T any](data []byte, set func(T)) error {
	var t T
	if err := json.Unmarshal(data, &t); err != nil {
		return err
	}
	set(t)
	return nil
}

type chapterJSON struct {
	Start float64 `json:"start_seconds"`
	End   float64 `json:"end_seconds"`
	Title string  `json:"title"`
}

func (c ChapterInfo) MarshalJSON() ([]byte, error) {
	return json.Marshal(chapterJSON{seconds(c.Start), seconds(c.End), c.Title})
}

func (c *ChapterInfo) UnmarshalJSON(data []byte) error {
	return decode(data, func(j chapterJSON) { *c = ChapterInfo{duration(j.Start), duration(j.End), j.Title} })
}

type soundbiteJSON struct {
	Start    float64 `json:"start_seconds"`
	Duration float64 `json:"duration_seconds"`
	Title    string  `json:"title,omitempty"`
}

func (s SoundbiteInfo) MarshalJSON() ([]byte, error) {
	return json.Marshal(soundbiteJSON{seconds(s.Start), seconds(s.Duration), s.Title})
}

func (s *SoundbiteInfo) UnmarshalJSON(data []byte) error {
	return decode(data, func(j soundbiteJSON) { *s = SoundbiteInfo{duration(j.Start), duration(j.Duration), j.Title} })
}

type mapEntryJSON struct {
	OldStart float64 `json:"old_start_seconds"`
	OldEnd   float64 `json:"old_end_seconds"`
	NewStart float64 `json:"new_start_seconds"`
}

func (e MapEntry) MarshalJSON() ([]byte, error) {
	return json.Marshal(mapEntryJSON{seconds(e.OldStart), seconds(e.OldEnd), seconds(e.NewStart)})
}

func (e *MapEntry) UnmarshalJSON(data []byte) error {
	return decode(data, func(j mapEntryJSON) { *e = MapEntry{duration(j.OldStart), duration(j.OldEnd), duration(j.NewStart)} })
}

type mixSpeakerJSON struct {
	Name         string  `json:"name"`
	Identity     string  `json:"identity"`
	Offset       float64 `json:"offset_seconds"`
	LoudnessLUFS float64 `json:"loudness_lufs"`
	LevelGainDB  float64 `json:"level_gain_db"`
	Talk         float64 `json:"talk_seconds"`
}

func (s MixSpeaker) MarshalJSON() ([]byte, error) {
	return json.Marshal(mixSpeakerJSON{s.Name, s.Identity, seconds(s.Offset), s.LoudnessLUFS, s.LevelGainDB, seconds(s.Talk)})
}

func (s *MixSpeaker) UnmarshalJSON(data []byte) error {
	return decode(data, func(j mixSpeakerJSON) {
		*s = MixSpeaker{j.Name, j.Identity, duration(j.Offset), j.LoudnessLUFS, j.LevelGainDB, duration(j.Talk)}
	})
}

type mixResultJSON struct {
	Output         string          `json:"output"`
	Format         string          `json:"format"`
	SampleRate     int             `json:"sample_rate"`
	Channels       int             `json:"channels"`
	BitrateKbps    int             `json:"bitrate_kbps,omitempty"`
	Duration       float64         `json:"duration_seconds"`
	LoudnessLUFS   float64         `json:"loudness_lufs"`
	TruePeakDBTP   float64         `json:"true_peak_dbtp"`
	GainDB         float64         `json:"gain_db"`
	RemovedSilence float64         `json:"removed_silence_seconds"`
	Speakers       []MixSpeaker    `json:"speakers"`
	Chapters       []ChapterInfo   `json:"chapters,omitempty"`
	Soundbites     []SoundbiteInfo `json:"soundbites,omitempty"`
	Passes         int             `json:"passes"`
}

func (r MixResult) MarshalJSON() ([]byte, error) {
	return json.Marshal(mixResultJSON{r.Output, r.Format, r.SampleRate, r.Channels, r.BitrateKbps,
		seconds(r.Duration), r.LoudnessLUFS, r.TruePeakDBTP, r.GainDB, seconds(r.RemovedSilence),
		r.Speakers, r.Chapters, r.Soundbites, r.Passes})
}

func (r *MixResult) UnmarshalJSON(data []byte) error {
	return decode(data, func(j mixResultJSON) {
		*r = MixResult{Output: j.Output, Format: j.Format, SampleRate: j.SampleRate, Channels: j.Channels,
			BitrateKbps: j.BitrateKbps, Duration: duration(j.Duration), LoudnessLUFS: j.LoudnessLUFS,
			TruePeakDBTP: j.TruePeakDBTP, GainDB: j.GainDB, RemovedSilence: duration(j.RemovedSilence),
			Speakers: j.Speakers, Chapters: j.Chapters, Soundbites: j.Soundbites, Passes: j.Passes}
	})
}

type clipResultJSON struct {
	Output     string          `json:"output"`
	Mode       string          `json:"mode"`
	Format     string          `json:"format"`
	Start      float64         `json:"start_seconds"`
	End        float64         `json:"end_seconds"`
	Duration   float64         `json:"duration_seconds"`
	SampleRate int             `json:"sample_rate"`
	Channels   int             `json:"channels"`
	Chapters   []ChapterInfo   `json:"chapters,omitempty"`
	Soundbites []SoundbiteInfo `json:"soundbites,omitempty"`
}

func (r ClipResult) MarshalJSON() ([]byte, error) {
	return json.Marshal(clipResultJSON{r.Output, r.Mode, r.Format, seconds(r.Start), seconds(r.End),
		seconds(r.Duration), r.SampleRate, r.Channels, r.Chapters, r.Soundbites})
}

func (r *ClipResult) UnmarshalJSON(data []byte) error {
	return decode(data, func(j clipResultJSON) {
		*r = ClipResult{j.Output, j.Mode, j.Format, duration(j.Start), duration(j.End), duration(j.Duration),
			j.SampleRate, j.Channels, j.Chapters, j.Soundbites}
	})
}

type trimResultJSON struct {
	Output     string          `json:"output"`
	Mode       string          `json:"mode"`
	Format     string          `json:"format"`
	Input      float64         `json:"input_seconds"`
	Duration   float64         `json:"duration_seconds"`
	Removed    float64         `json:"removed_seconds"`
	TimeMap    []MapEntry      `json:"time_map"`
	Chapters   []ChapterInfo   `json:"chapters,omitempty"`
	Soundbites []SoundbiteInfo `json:"soundbites,omitempty"`
}

func (r TrimResult) MarshalJSON() ([]byte, error) {
	return json.Marshal(trimResultJSON{r.Output, r.Mode, r.Format, seconds(r.InputDuration), seconds(r.Duration),
		seconds(r.Removed), r.TimeMap, r.Chapters, r.Soundbites})
}

func (r *TrimResult) UnmarshalJSON(data []byte) error {
	return decode(data, func(j trimResultJSON) {
		*r = TrimResult{j.Output, j.Mode, j.Format, duration(j.Input), duration(j.Duration), duration(j.Removed),
			j.TimeMap, j.Chapters, j.Soundbites}
	})
}

type reportJSON struct {
	Path                string            `json:"path"`
	Type                string            `json:"type"`
	Format              string            `json:"format"`
	Duration            float64           `json:"duration_seconds"`
	DurationExact       bool              `json:"duration_exact"`
	SampleRate          int               `json:"sample_rate"`
	Channels            int               `json:"channels"`
	BitrateKbps         int               `json:"bitrate_kbps,omitempty"`
	VBR                 bool              `json:"vbr,omitempty"`
	Encoder             string            `json:"encoder,omitempty"`
	EncoderDelaySamples int               `json:"encoder_delay_samples"`
	PaddingSamples      int               `json:"padding_samples"`
	LoudnessLUFS        float64           `json:"loudness_lufs"`
	LoudnessRangeLU     float64           `json:"loudness_range_lu"`
	TruePeakDBTP        float64           `json:"true_peak_dbtp"`
	SamplePeakDBFS      float64           `json:"sample_peak_dbfs"`
	SilenceShare        float64           `json:"silence_share"`
	Tags                map[string]string `json:"tags,omitempty"`
	Chapters            []ChapterInfo     `json:"chapters,omitempty"`
	Session             *SessionReport    `json:"session,omitempty"`
	Spacecast           *Meta             `json:"spacecast,omitempty"`
	SpacecastError      string            `json:"spacecast_error,omitempty"`
}

func (r Report) MarshalJSON() ([]byte, error) {
	return json.Marshal(reportJSON{r.Path, r.Type, r.Format, seconds(r.Duration), r.DurationExact, r.SampleRate,
		r.Channels, r.BitrateKbps, r.VBR, r.Encoder, r.EncoderDelaySamples, r.PaddingSamples, r.LoudnessLUFS,
		r.LoudnessRangeLU, r.TruePeakDBTP, r.SamplePeakDBFS, r.SilenceShare, r.Tags, r.Chapters, r.Session,
		r.Spacecast, r.SpacecastError})
}

func (r *Report) UnmarshalJSON(data []byte) error {
	return decode(data, func(j reportJSON) {
		*r = Report{j.Path, j.Type, j.Format, duration(j.Duration), j.DurationExact, j.SampleRate, j.Channels,
			j.BitrateKbps, j.VBR, j.Encoder, j.EncoderDelaySamples, j.PaddingSamples, j.LoudnessLUFS,
			j.LoudnessRangeLU, j.TruePeakDBTP, j.SamplePeakDBFS, j.SilenceShare, j.Tags, j.Chapters, j.Session,
			j.Spacecast, j.SpacecastError}
	})
}

type speakerReportJSON struct {
	Identity     string  `json:"identity"`
	Name         string  `json:"name"`
	Tracks       int     `json:"tracks"`
	Offset       float64 `json:"offset_seconds"`
	Talk         float64 `json:"talk_seconds"`
	LoudnessLUFS float64 `json:"loudness_lufs"`
}

func (s SpeakerReport) MarshalJSON() ([]byte, error) {
	return json.Marshal(speakerReportJSON{s.Identity, s.Name, s.Tracks, seconds(s.Offset), seconds(s.Talk), s.LoudnessLUFS})
}

func (s *SpeakerReport) UnmarshalJSON(data []byte) error {
	return decode(data, func(j speakerReportJSON) {
		*s = SpeakerReport{j.Identity, j.Name, j.Tracks, duration(j.Offset), duration(j.Talk), j.LoudnessLUFS}
	})
}
