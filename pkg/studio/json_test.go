package studio

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestResultJSON pins the documented JSON of every result (keys, their order, times in seconds)
// and checks that it reads back into the same Go value.
func TestResultJSON(t *testing.T) {
	const ms = time.Millisecond
	ch := []ChapterInfo{{Start: 0, End: 29922271 * time.Microsecond, Title: "Ada & Zoë"}}
	sbs := []SoundbiteInfo{{Start: 39765604 * time.Microsecond, Duration: 20 * time.Second, Title: "Clip"}}
	tests := []struct {
		v, into any
		want    string
		why     string
	}{
		{&MixResult{Output: "ep.mp3", Format: "mp3", SampleRate: 48000, Channels: 1, BitrateKbps: 64,
			Duration: 109653895833, LoudnessLUFS: -16, TruePeakDBTP: -1.5, GainDB: 3, RemovedSilence: 1118 * ms,
			Speakers: []MixSpeaker{{Name: "Ada", Identity: "ada", Offset: 500 * ms, LoudnessLUFS: -23, LevelGainDB: 1, Talk: 37400 * ms}},
			Chapters: ch, Soundbites: sbs, Passes: 2}, &MixResult{},
			`{"output":"ep.mp3","format":"mp3","sample_rate":48000,"channels":1,"bitrate_kbps":64,"duration_seconds":109.653895833,"loudness_lufs":-16,"true_peak_dbtp":-1.5,"gain_db":3,"removed_silence_seconds":1.118,"speakers":[{"name":"Ada","identity":"ada","offset_seconds":0.5,"loudness_lufs":-23,"level_gain_db":1,"talk_seconds":37.4}],"chapters":[{"start_seconds":0,"end_seconds":29.922271,"title":"Ada \u0026 Zoë"}],"soundbites":[{"start_seconds":39.765604,"duration_seconds":20,"title":"Clip"}],"passes":2}`,
			"a mix: its times in seconds (1.118, not 1.1179999999999999), the speakers' too"},
		{&MixResult{Output: "ep.wav", Format: "wav", Speakers: []MixSpeaker{}}, &MixResult{},
			`{"output":"ep.wav","format":"wav","sample_rate":0,"channels":0,"duration_seconds":0,"loudness_lufs":0,"true_peak_dbtp":0,"gain_db":0,"removed_silence_seconds":0,"speakers":[],"passes":0}`,
			"a WAV mix leaves out the bitrate, and empty chapters and soundbites"},
		{&ClipResult{Output: "c.mp3", Mode: "exact", Format: "mp3", Start: 40 * time.Second, End: 60 * time.Second,
			Duration: 20 * time.Second, SampleRate: 48000, Channels: 1}, &ClipResult{},
			`{"output":"c.mp3","mode":"exact","format":"mp3","start_seconds":40,"end_seconds":60,"duration_seconds":20,"sample_rate":48000,"channels":1}`,
			"a clip, as docs/clip.md shows it"},
		{&TrimResult{Output: "t.mp3", Mode: "copy", Format: "mp3", InputDuration: 109650 * ms, Duration: 96640 * ms,
			Removed: 13010 * ms, TimeMap: []MapEntry{{OldStart: 3 * time.Second, OldEnd: 69995 * ms, NewStart: 0}}}, &TrimResult{},
			`{"output":"t.mp3","mode":"copy","format":"mp3","input_seconds":109.65,"duration_seconds":96.64,"removed_seconds":13.01,"time_map":[{"old_start_seconds":3,"old_end_seconds":69.995,"new_start_seconds":0}]}`,
			"a trim with its time map"},
		{&Report{Path: "s", Type: "session", Format: "session", Duration: 2 * time.Second, DurationExact: true,
			SampleRate: 48000, Channels: 1, Session: &SessionReport{ID: "x", StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
				Speakers: []SpeakerReport{{Identity: "ada", Tracks: 1, Offset: 1500 * ms, Talk: 300 * ms, LoudnessLUFS: -20}}}}, &Report{},
			`{"path":"s","type":"session","format":"session","duration_seconds":2,"duration_exact":true,"sample_rate":48000,"channels":1,"encoder_delay_samples":0,"padding_samples":0,"loudness_lufs":0,"loudness_range_lu":0,"true_peak_dbtp":0,"sample_peak_dbfs":0,"silence_share":0,"session":{"id":"x","room":"","protocol":"","started_at":"2026-01-02T03:04:05Z","finalized":false,"tracks":0,"speakers":[{"identity":"ada","name":"","tracks":1,"offset_seconds":1.5,"talk_seconds":0.3,"loudness_lufs":-20}],"gaps":0}}`,
			"an inspected session with a speaker"},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.v)
		if err != nil {
			t.Fatalf("%s: %v", tt.why, err)
		}
		if string(b) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.why, b, tt.want)
		}
		if err := json.Unmarshal(b, tt.into); err != nil {
			t.Fatalf("%s: read back: %v", tt.why, err)
		}
		if !reflect.DeepEqual(tt.into, tt.v) {
			t.Errorf("%s: read back as\n%+v\nwant %+v", tt.why, tt.into, tt.v)
		}
	}
}
