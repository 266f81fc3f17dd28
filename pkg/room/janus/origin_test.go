package janus

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/spacecast/spacecast/pkg/room"
	"github.com/spacecast/spacecast/pkg/room/rtc"
)

// TestRedirectToAnotherOriginRefused: a server that redirects the API (307, which resends the body
// holding apisecret and token) to another port of the same host is refused as a bad URL, and the
// other origin never gets a request.
func TestRedirectToAnotherOriginRefused(t *testing.T) {
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "stolen", http.StatusTeapot)
	}))
	defer other.Close()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer front.Close()
	_, err := Dial(context.Background(), front.URL+"/janus", Options{Room: "1234", APISecret: "s3cret", Token: "t0ken", RTC: rtc.Options{Loopback: true}})
	if !errors.Is(err, room.ErrURL) || !errors.Is(err, room.ErrCrossOrigin) {
		t.Errorf("Dial through a cross-origin redirect: %v, want room.ErrURL and room.ErrCrossOrigin", err)
	}
	t.Logf("%v", err)
	if n := hits.Load(); n != 0 {
		t.Errorf("the other origin got %d request(s) carrying the API secret", n)
	}
}
