// Command spacecast records live audio rooms and turns them into podcasts.
package main

import (
	"os"
	"runtime/debug"

	"github.com/spacecast/spacecast/pkg/cli"
)

// Set by the release build (-ldflags "-X main.version=... -X main.commit=... -X main.date=...").
var (
	version = "dev"
	commit  = ""
	date    = ""
)

func main() {
	info := cli.BuildInfo{Version: version, Commit: commit, Date: date}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && info.Commit == "":
				info.Commit = s.Value
			case s.Key == "vcs.time" && info.Date == "":
				info.Date = s.Value
			}
		}
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	if info.Date == "" {
		info.Date = "unknown"
	}
	os.Exit(cli.Execute(info, os.Args[1:], os.Stdout, os.Stderr))
}
