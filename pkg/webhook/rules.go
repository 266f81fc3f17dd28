package webhook

import (
	"encoding/json"
	"fmt"
	"path"
)

// Rules say which rooms are recorded when they start. The zero value records nothing.
//
// A room's metadata may carry {"spacecast":{"record":true}} (ask) or {"spacecast":{"record":false}}
// (refuse); other keys are left alone, and metadata that is not such JSON says nothing. A refusal
// wins over every rule, so an application can keep one room out of an "all rooms" fleet.
type Rules struct {
	// All records every room.
	All bool
	// Names records rooms whose name matches one of these path.Match globs ("standup-*",
	// "podcast-??"): a glob rather than a regexp, because it is anchored by nature (a regexp
	// "show" also matches "no-show-xyz" unless written ^show$) and reads the same in a
	// config file, an environment variable and a shell. As in path.Match, * does not cross "/".
	Names []string
	// Metadata records rooms whose metadata asks for it.
	Metadata bool
}

// Check reports whether the rules can be used: every name pattern is a valid glob.
func (r Rules) Check() error {
	for _, p := range r.Names {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("%w: room name pattern %q: %v", ErrConfig, p, err)
		}
	}
	return nil
}

// Record reports whether a starting room is to be recorded, and why (for logs).
func (r Rules) Record(room Room) (bool, string) {
	ask, said := metadataRecord(room.Metadata)
	switch {
	case said && !ask:
		return false, "room metadata refuses recording"
	case r.All:
		return true, "all rooms are recorded"
	}
	for _, p := range r.Names {
		if ok, _ := path.Match(p, room.Name); ok {
			return true, fmt.Sprintf("room name matches %q", p)
		}
	}
	if r.Metadata && said && ask {
		return true, "room metadata asks for recording"
	}
	return false, "no rule matches"
}

// metadataRecord reads {"spacecast":{"record":bool}} from a room's metadata: said is false when
// the metadata does not say.
func metadataRecord(metadata string) (record, said bool) {
	if metadata == "" || metadata[0] != '{' {
		return false, false
	}
	var m struct {
		Spacecast *struct {
			Record *bool `json:"record"`
		} `json:"spacecast"`
	}
	if json.Unmarshal([]byte(metadata), &m) != nil || m.Spacecast == nil || m.Spacecast.Record == nil {
		return false, false
	}
	return *m.Spacecast.Record, true
}
