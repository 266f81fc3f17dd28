package natsserver

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A stream written before a restart is there after it, on the same URL, with its message.
func TestRestartKeepsStore(t *testing.T) {
	s := Start(t)
	nc := s.Connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "t.a", []byte("kept")); err != nil {
		t.Fatal(err)
	}
	s.Restart(t)
	st, err := js.Stream(ctx, "T")
	if err != nil {
		t.Fatalf("stream after restart: %v", err)
	}
	m, err := st.GetLastMsgForSubject(ctx, "t.a")
	if err != nil {
		t.Fatalf("message after restart: %v", err)
	}
	if string(m.Data) != "kept" {
		t.Fatalf("message after restart = %q, want kept", m.Data)
	}
}
