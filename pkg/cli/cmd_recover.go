package cli

import (
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/edit"
	"github.com/spacecast/spacecast/pkg/objstore"
	"github.com/spacecast/spacecast/pkg/record/control"
	"github.com/spacecast/spacecast/pkg/session"
)

func newRecoverCommand(g *globalOptions) *cobra.Command {
	var signKey, spool string
	var s3o s3Options
	cmd := &cobra.Command{
		Use:   "recover SESSION_DIR | s3://BUCKET/PREFIX/NAME",
		Short: "Finish a session whose recorder was killed, losing at most its last seconds",
		Long: `Recover finalizes a session left unfinished by a recorder that died (kill -9, a crash, power
loss, a full disk): each track file and the live mix are read page by page, the page the crash
cut short at the end is cut off and the file closed, the manifest gets their real lengths, and
the session is marked finalized. The recorder syncs every second, so at most the last 2 s are
lost.

Damage is not a crash: a page in the middle of a file whose checksum or header is wrong (a bad
disk, a flipped bit) is skipped, reading goes on at the next whole page, and everything after it
is kept. The audio of the skipped pages becomes a gap with cause "damaged" in the track, and the
track's timeline keeps what follows where it played. Damaged first pages (OpusHead, OpusTags)
are made again from the manifest. The output (and --json: damaged_bytes, lost_ticks, each
track's damage) says what was skipped. A live mix damaged in the middle is left out of the
manifest (the file stays; 'spacecast mix' makes one from the tracks).

mix, clip and inspect already read an unrecovered session (and say it was not finalized);
recover makes it final. Running it on a finalized session changes nothing.

Then it seals the session if it is not sealed yet: every file's SHA-256 goes into the manifest
('spacecast verify' checks them), signed with --sign-key if given. A session already sealed is
never sealed again, and one whose files or signature no longer match its seal is refused (that
would bless whatever changed since): 'spacecast verify' lists what changed.

Recover never writes through a link: a session folder holding a symbolic link (a track, the
manifest, a folder) is refused. Everything is written in a staging folder inside the session
and renamed into place, the manifest last: when recover fails, the session is as it was.

A session recorded into a bucket (record -o s3://...) is recovered with its URL: 'spacecast
recover s3://BUCKET/PREFIX/NAME'. When the dead recorder's spool is still on this machine (the
default one, or --spool) it is used: it holds everything the bucket has and the last seconds
that were not sent. Otherwise the pieces in the bucket are joined (a missing piece cuts its file
there), once the live manifest has not changed for 20 s: a running recorder sends it every 5 s,
so a younger one is refused as possibly still being recorded. The session is recovered and sealed as above, uploaded as 'spacecast push' leaves it
(the manifest last), and then the pieces and the spool are deleted. A session already finished
in the bucket is left as it is.

A room taken over by another recorder (a fleet worker that died, docs/fleet.md) is recorded
in parts: NAME, then NAME-part2, NAME-part3, ... beside it (a part a worker left empty is
skipped). Recover then joins them into one
session at NAME: a part left live is recovered from its pieces first (the same 20 s rule), the
later parts' clocks are placed by their start times, their tracks copied in with a part prefix
(tracks/p2-...), the outage between two parts becomes a gap with cause "failover", the live
mix is made again from all the tracks (silent in the gaps), the whole is sealed (and signed with
--sign-key), the manifest written last, and the parts' places emptied. Interrupted, run it
again: it finishes the job. The output (and --json: "join") lists the parts and the gaps.

Exit status: 0 the session was recovered (or was already final); 1 it was recovered, but damage
the crash did not cause was skipped (the output lists it; the session is finalized and sealed),
or it failed while working (nothing changed); 3 refused, nothing changed: not a session, a link
in it, a file with no whole page, or a seal that no longer matches; 5 the store cannot be used.

` + s3Help,
		Example: `  spacecast recover town-hall
  spacecast recover town-hall --json
  spacecast recover town-hall --sign-key ~/.config/spacecast/sign.key
  spacecast recover s3://shows/2026/panel`,
		Args: exactArgs("recover", 1, "SESSION_DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if objstore.IsURL(args[0]) {
				return runRecoverS3(cmd.Context(), g, args[0], signKey, spool, &s3o)
			}
			if spool != "" {
				return usageErr("recover: --spool is for a session recorded into a bucket (recover s3://BUCKET/PREFIX/NAME)")
			}
			return runRecover(g, args[0], signKey)
		},
	}
	cmd.Flags().StringVar(&signKey, "sign-key", "", "private key file (from 'spacecast keygen') to sign the session with when sealing it")
	cmd.Flags().StringVar(&spool, "spool", "", "with s3://…: the spool the recording used, if not the default one under the user's cache folder")
	s3o.addFlags(cmd)
	return cmd
}

func runRecover(g *globalOptions, dir, signKey string) error {
	var key ed25519.PrivateKey
	if signKey != "" {
		k, err := session.LoadPrivateKey(signKey)
		if err != nil {
			return inputErr(fmt.Errorf("recover: --sign-key: %w", err))
		}
		key = k
	}
	rep, sealed, err := recoverFolder(dir, key)
	if err != nil {
		return err
	}
	var damaged error
	if rep.Damaged() {
		damaged = fmt.Errorf("recover: %s was recovered, but %d damaged bytes the crash did not cause were skipped (%s of audio lost; the report lists them)",
			dir, rep.DamagedBytes, session.Duration(rep.LostTicks).Round(time.Millisecond))
	}
	if g.json {
		if err := writeJSON(g.stdout, struct {
			*capture.RecoverReport
			Sealed string `json:"sealed"`
		}{rep, sealed}); err != nil {
			return err
		}
		return damaged
	}
	defer fmt.Fprintf(g.stdout, "seal: %s\n", sealed)
	if rep.AlreadyFinalized {
		fmt.Fprintf(g.stdout, "%s is already finalized (%s); nothing to recover\n", dir, rep.Duration.Round(1e6))
		return nil
	}
	fmt.Fprintf(g.stdout, "recovered %s: %s\n", dir, rep.Duration.Round(1e6))
	printRecovered(g, rep)
	return damaged
}

// recoverFolder finishes the session folder dir (refused while its recorder runs) and seals it
// if it is not sealed; it says how it was sealed.
func recoverFolder(dir string, key ed25519.PrivateKey) (*capture.RecoverReport, string, error) {
	if control.Alive(dir) {
		return nil, "", inputErr(fmt.Errorf("recover: %s is being recorded right now (its recorder answers on its control socket): "+
			"stop it (Ctrl-C, SIGTERM) and it finalizes the session itself", dir))
	}
	rep, err := capture.Recover(dir, capture.RecoverOptions{Seal: func(d string) error { return session.Seal(d, key) }})
	if err != nil {
		return nil, "", recoverErr(dir, err)
	}
	sealed := sealedText(key)
	if rep.AlreadyFinalized {
		if sealed, err = sealIfUnsealed(dir, key); err != nil {
			return nil, "", recoverErr(dir, err)
		}
	}
	control.RemoveStale(dir) // the dead recorder's pointer to its socket
	return rep, sealed, nil
}

// printRecovered lists what recovering did to each track and the mix.
func printRecovered(g *globalOptions, rep *capture.RecoverReport) {
	for _, t := range rep.Tracks {
		switch {
		case t.Missing:
			fmt.Fprintf(g.stdout, "  %-4s no audio was written before the crash; dropped\n", t.ID)
		case t.CutBytes > 0:
			fmt.Fprintf(g.stdout, "  %-4s %.2f s (cut after its last whole page: %d bytes)\n", t.ID, float64(t.Samples)/48000, t.CutBytes)
		default:
			fmt.Fprintf(g.stdout, "  %-4s %.2f s\n", t.ID, float64(t.Samples)/48000)
		}
		printDamage(g, t.RecoveredFile)
	}
	if m := rep.Mix; m != nil {
		switch {
		case m.Dropped:
			fmt.Fprintf(g.stdout, "  mix  %s is damaged or unreadable: left out of the manifest (the file stays; 'spacecast mix' makes one)\n", m.File)
		case m.CutBytes > 0:
			fmt.Fprintf(g.stdout, "  mix  %s cut after its last whole page (%d bytes)\n", m.File, m.CutBytes)
		}
		printDamage(g, *m)
	}
}

func printDamage(g *globalOptions, f capture.RecoveredFile) {
	if f.HeadersRebuilt {
		fmt.Fprintf(g.stdout, "       %s: its first pages (OpusHead, OpusTags) were damaged and were made again\n", f.File)
	}
	for _, d := range f.Damage {
		fmt.Fprintf(g.stdout, "       %s: skipped %d damaged bytes at byte %d (%s)", f.File, d.Bytes, d.Offset, count(d.Pages, "page"))
		if d.DurationTicks > 0 {
			fmt.Fprintf(g.stdout, ": %s of audio lost at %s, kept as a gap (cause damaged)",
				session.Duration(d.DurationTicks).Round(time.Millisecond), edit.FormatTime(session.Duration(d.StartTicks)))
		}
		fmt.Fprintln(g.stdout)
	}
}

func sealedText(key ed25519.PrivateKey) string {
	if key != nil {
		return "sealed and signed (spacecast verify checks it)"
	}
	return "sealed, unsigned (spacecast verify checks it)"
}

// sealIfUnsealed seals the finalized session in dir unless its manifest already lists digests,
// and says what it did. A signature that no longer matches the manifest is never replaced or
// removed by a new seal: session.CheckSeal refuses it.
func sealIfUnsealed(dir string, key ed25519.PrivateKey) (string, error) {
	s, err := session.Open(dir)
	if err != nil {
		return "", err
	}
	if len(s.Manifest.Files) > 0 {
		return "already sealed; not sealed again", nil
	}
	if err := session.CheckPlain(dir); err != nil {
		return "", err
	}
	if err := session.CheckSeal(dir); err != nil {
		return "", err
	}
	if err := session.Seal(dir, key); err != nil {
		return "", err
	}
	return sealedText(key), nil
}

// recoverErr says that recover changed nothing, and what to do about a refusal.
func recoverErr(dir string, err error) error {
	// The error table adds what to do (session.ErrIrregular, session.ErrSealMismatch name dir).
	return inputErr(fmt.Errorf("recover: %w; nothing was changed", err))
}
