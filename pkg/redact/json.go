package redact

import (
	"encoding/json"

	"github.com/spacecast/spacecast/pkg/edit"
)

// The JSON of a Result (spacecast redact --json, docs/redact.md) gives times as numbers of
// seconds under "_seconds" keys, in the order below; edit.InSeconds and edit.Seconds convert.

type trackChangeJSON struct {
	ID       string  `json:"id"`
	File     string  `json:"file"`
	Action   string  `json:"action"`
	Packets  int     `json:"packets,omitempty"`
	Silenced float64 `json:"silenced_seconds,omitempty"`
}

func (c TrackChange) MarshalJSON() ([]byte, error) {
	return json.Marshal(trackChangeJSON{c.ID, c.File, c.Action, c.Packets, edit.InSeconds(c.Silenced)})
}

func (c *TrackChange) UnmarshalJSON(data []byte) error {
	var j trackChangeJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*c = TrackChange{j.ID, j.File, j.Action, j.Packets, edit.Seconds(j.Silenced)}
	return nil
}

type resultJSON struct {
	Session          string        `json:"session"`
	Identity         string        `json:"identity"`
	Name             string        `json:"name"`
	Whole            bool          `json:"whole"`
	From             float64       `json:"from_seconds"`
	To               float64       `json:"to_seconds"`
	Tracks           []TrackChange `json:"tracks"`
	Mix              string        `json:"mix"`
	MixFile          string        `json:"mix_file,omitempty"`
	Sealed           bool          `json:"sealed"`
	Unsealed         bool          `json:"unsealed"`
	Signed           bool          `json:"signed"`
	SignatureRemoved bool          `json:"signature_removed"`
}

func (r Result) MarshalJSON() ([]byte, error) {
	return json.Marshal(resultJSON{r.Session, r.Identity, r.Name, r.Whole, edit.InSeconds(r.From), edit.InSeconds(r.To),
		r.Tracks, r.Mix, r.MixFile, r.Sealed, r.Unsealed, r.Signed, r.SignatureRemoved})
}

func (r *Result) UnmarshalJSON(data []byte) error {
	var j resultJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*r = Result{j.Session, j.Identity, j.Name, j.Whole, edit.Seconds(j.From), edit.Seconds(j.To),
		j.Tracks, j.Mix, j.MixFile, j.Sealed, j.Unsealed, j.Signed, j.SignatureRemoved}
	return nil
}
