// Package capture turns the Opus packets a room delivers into a session's track files and timelines.
// It knows no room protocol: adapters hand it packets already ordered by capture/jitter and placed on
// the session clock.
package capture
