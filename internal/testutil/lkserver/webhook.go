package lkserver

import (
	"crypto/sha256"
	"encoding/base64"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
)

// WebhookToken signs a webhook body as LiveKit does (livekit/protocol's own auth package): the
// Authorization header of a delivery signed with key and secret, valid for 5 minutes.
func WebhookToken(t testing.TB, key, secret string, body []byte) string {
	t.Helper()
	sum := sha256.Sum256(body)
	tok, err := auth.NewAccessToken(key, secret).SetValidFor(5 * time.Minute).
		SetSha256(base64.StdEncoding.EncodeToString(sum[:])).ToJWT()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
