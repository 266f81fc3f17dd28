package janus

import (
	"errors"
	"testing"

	"github.com/spacecast/spacecast/pkg/room"
)

// TestVideoRoomSelfEvents: an event that names the recorder itself. Only the "unpublished" slot
// means its data-only feed is gone (the recording goes on); the recorder leaving or kicked in
// the same event still ends the recording as "room closed".
func TestVideoRoomSelfEvents(t *testing.T) {
	self := stringID("rec")
	for _, tc := range []struct {
		why    string
		ev     pluginEvent
		closed bool
	}{
		{"the recorder's feed unpublished: the recording goes on", pluginEvent{VideoRoom: "event", Unpublished: self}, false},
		{"the recorder kicked", pluginEvent{VideoRoom: "event", Kicked: self}, true},
		{"unpublished and kicked in one event: kicked wins", pluginEvent{VideoRoom: "event", Unpublished: self, Kicked: self}, true},
		{"unpublished and leaving in one event: leaving wins", pluginEvent{VideoRoom: "event", Unpublished: self, Leaving: self}, true},
	} {
		t.Run(tc.why, func(t *testing.T) {
			c := &conn{room: stringID("1234"), roster: newRoster(), selfID: self}
			err := c.onVideoRoom(nil, &tc.ev)
			if got := errors.Is(err, room.ErrRoomClosed); got != tc.closed {
				t.Errorf("onVideoRoom = %v, want room closed: %v", err, tc.closed)
			}
		})
	}
}
