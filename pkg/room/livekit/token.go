package livekit

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/livekit/protocol/auth"

	"github.com/spacecast/spacecast/pkg/room"
)

// RecorderAttribute is the participant attribute that marks spacecast's recorder, so apps can show
// a REC badge for it.
const RecorderAttribute = "spacecast.recorder"

// RecorderToken mints a join token for the recorder: the `recorder` grant, subscribe-only for media
// (it publishes no audio), allowed to send data (its announcements), never hidden, and marked as a
// recorder in its metadata and attributes.
func RecorderToken(apiKey, apiSecret, roomName string, id room.Identity, validFor time.Duration) (string, error) {
	g := &auth.VideoGrant{RoomJoin: true, Room: roomName, Recorder: true}
	g.SetCanPublish(false)
	g.SetCanSubscribe(true)
	g.SetCanPublishData(true)
	meta, err := json.Marshal(map[string]any{"spacecast": map[string]any{"role": "recorder", "recording": true}})
	if err != nil {
		return "", err
	}
	t := auth.NewAccessToken(apiKey, apiSecret).
		SetIdentity(id.Identity).
		SetName(id.Name).
		SetVideoGrant(g).
		SetMetadata(string(meta)).
		SetAttributes(map[string]string{RecorderAttribute: "true"}).
		SetValidFor(validFor)
	jwt, err := t.ToJWT()
	if err != nil {
		return "", fmt.Errorf("livekit: mint token: %w", err)
	}
	return jwt, nil
}

// adminToken lets the recorder ask the server whether a room exists (RoomService.ListRooms).
func adminToken(apiKey, apiSecret string) (string, error) {
	g := &auth.VideoGrant{RoomList: true}
	jwt, err := auth.NewAccessToken(apiKey, apiSecret).SetVideoGrant(g).SetValidFor(time.Minute).ToJWT()
	if err != nil {
		return "", fmt.Errorf("livekit: mint token: %w", err)
	}
	return jwt, nil
}
