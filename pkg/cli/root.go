package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/internal/safetext"
	"golang.org/x/sys/unix"
)

// BuildInfo is what the binary knows about itself; main fills it from ldflags.
type BuildInfo struct {
	Version string
	Commit  string
	Date    string
}

// globalOptions are the flags every command shares.
type globalOptions struct {
	json  bool
	quiet bool
	// stdout and stderr are where the command writes; tests swap them.
	stdout, stderr io.Writer
	// isTerminal reports whether stderr is a terminal, which turns progress on.
	isTerminal bool
}

// NewRootCommand builds the whole command tree.
func NewRootCommand(info BuildInfo, stdout, stderr io.Writer) *cobra.Command {
	g := &globalOptions{stdout: stdout, stderr: stderr, isTerminal: isTerminal(stderr)}
	root := &cobra.Command{
		Use:   "spacecast",
		Short: "Record live audio rooms and turn them into podcasts",
		Long: `spacecast keeps live audio rooms (Twitter Spaces, Clubhouse and their clones) after they end.

Recording (a visible participant: the room sees a REC name and is told):
  record    join a LiveKit, Janus or WHEP room and capture every speaker losslessly, with a live mix
  recover   finish a session whose recorder was killed (at most the last 2 s are lost)
  redact    remove a person, or a stretch of them, from a session (tracks, live mix, ledger)
  demo      record an embedded live room on loopback, then mix, clip, trim, inspect and publish it

Keeping recordings only as long as promised, and proving they were not changed:
  verify    check a session's files against the SHA-256 digests and signature in its manifest
  keygen    make an ed25519 key pair to sign sessions with (record --sign-key, verify --key)
  export    pack a session with its manifest into one tar file for a moderation request
  prune     delete sessions past their delete-after date (never held or still recording)
  hold      keep a session from being pruned (a moderation hold); release lifts it

The studio commands work offline on recordings and ordinary audio files:
  mix       mix speakers (a session folder or audio files) into one levelled, loudness-normalised file
  clip      cut an exact clip (or a lossless frame-accurate one with --copy)
  trim      remove stretches from a recording, keeping chapters and soundbites in place
  inspect   show duration, format, loudness, true peak and, for a session, its speakers

Keeping sessions in S3-compatible object storage (AWS S3, R2, GCS, MinIO, Ceph):
  push      upload a finished session to s3://BUCKET/PREFIX/NAME, manifest last
  pull      download one into a new folder, checked against its seal

A fleet: many machines sharing the recording of many rooms through NATS JetStream (docs/fleet.md):
  submit    queue a job (submit record URL --store s3://BUCKET/PREFIX) for the fleet's workers
  jobs      list the jobs, show one, cancel one

Publishing makes a folder that is uploaded to static hosting as it is:
  feed      create a podcast site (feed init), check a feed against Apple and PSP-1 (feed check)
  publish   add an episode (an MP3 or a session folder) to the feed and page, or --update one
  unpublish take an episode out of the feed (its GUID is never reused)
  site      upload the site to an S3-compatible bucket (site push): audio first, feed last

Times are typed as seconds (754.5), MM:SS(.mmm), HH:MM:SS(.mmm) or 1h2m3s.
spacecast does all of its audio work itself; it needs no ffmpeg.`,
		Example: `  spacecast demo
  spacecast record wss://example.livekit.cloud --room town-hall --api-key KEY --api-secret SECRET -o town-hall
  spacecast mix testdata/demo/session -o episode.mp3
  spacecast clip episode.mp3 --start 1:05 --duration 30s -o clip.mp3
  spacecast trim episode.mp3 --cut 0-12.5 -o trimmed.mp3
  spacecast inspect episode.mp3 --json
  spacecast feed init site --title "Town Hall" --base-url https://podcast.example.com --author Ada \
      --description "Our monthly town hall" --category Government --owner-email ada@example.com
  spacecast publish site town-hall --title "Town hall, May" --soundbite 12:30+45s`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetUsageTemplate(root.UsageTemplate() + "\n" + exitStatusHelp)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr("%s: %v (see '%s --help')", c.CommandPath(), err, c.CommandPath())
	})
	root.PersistentFlags().BoolVar(&g.json, "json", false, "print results as JSON on stdout (for scripts)")
	root.PersistentFlags().BoolVarP(&g.quiet, "quiet", "q", false, "print no progress")
	root.AddCommand(
		newVersionCommand(info, g),
		newMixCommand(g),
		newClipCommand(g),
		newTrimCommand(g),
		newInspectCommand(g),
		newDemoCommand(g),
		newRecordCommand(g),
		newRecoverCommand(g),
		newRedactCommand(g),
		newVerifyCommand(g), newKeygenCommand(g), newExportCommand(g), newPruneCommand(g), newHoldCommand(g), newReleaseCommand(g),
		newPushCommand(g), newPullCommand(g),
		newSubmitCommand(g), newJobsCommand(g), newWebhookCommand(g), newWorkerCommand(g),
		newFeedCommand(g), newPublishCommand(g), newUnpublishCommand(g), newSiteCommand(g),
	)
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Long = "Print a shell completion script for bash, zsh, fish or powershell.\n\n" +
				"  bash:  source <(spacecast completion bash)\n" +
				"  zsh:   spacecast completion zsh > \"${fpath[1]}/_spacecast\"\n" +
				"  fish:  spacecast completion fish > ~/.config/fish/completions/spacecast.fish"
		}
	}
	return root
}

// Run runs one command line and returns its error as the user reads it (the error table's
// message and hint); ExitCode maps it to an exit status. An error cobra raises before a command
// starts (an unknown command, a flag cobra itself checks) is a usage error.
func Run(ctx context.Context, info BuildInfo, args []string, stdout, stderr io.Writer) error {
	root := NewRootCommand(info, stdout, stderr)
	started := false
	root.PersistentPreRun = func(*cobra.Command, []string) { started = true }
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	var ee *exitError
	if err != nil && !started && !errors.As(err, &ee) {
		err = usageErr("%v (see 'spacecast --help')", err)
	}
	command := ""
	if cmd != nil {
		command = strings.TrimPrefix(strings.TrimPrefix(cmd.CommandPath(), root.Name()), " ")
	}
	return explain(command, err)
}

// Execute runs the command line, prints its error on stderr and returns the process exit code.
// SIGINT and SIGTERM cancel the context: commands stop, remove their temporary outputs and return
// context.Canceled.
func Execute(info BuildInfo, args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := Run(ctx, info, args, stdout, stderr)
	if err != nil {
		// An error may quote a room, a server or a file: it reaches the terminal through safetext.
		fmt.Fprintf(stderr, "spacecast: %s\n", safetext.TermText(err.Error()))
	}
	return ExitCode(err)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	// A terminal answers the terminal ioctl; /dev/null and other character devices do not.
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
