package cli

import (
	"crypto/ed25519"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/capture"
	"github.com/spacecast/spacecast/pkg/session"
)

func newRecoverCommand(g *globalOptions) *cobra.Command {
	var signKey string
	cmd := &cobra.Command{
		Use:   "recover SESSION_DIR",
		Short: "Finish a session whose recorder was killed, losing at most its last seconds",
		Long: `Recover finalizes a session left unfinished by a recorder that died (kill -9, a crash, power
loss, a full disk): each track file and the live mix are cut after their last whole page and
closed, the manifest gets their real lengths, and the session is marked finalized. The recorder
syncs every second, so at most the last 2 s are lost.

mix, clip and inspect already read an unrecovered session (and say it was not finalized);
recover makes it final. Running it on a finalized session changes nothing.

Then it seals the session if it is not sealed yet: every file's SHA-256 goes into the manifest
('spacecast verify' checks them), signed with --sign-key if given. A session already sealed is
never sealed again (that would bless whatever changed since).`,
		Example: `  spacecast recover town-hall
  spacecast recover town-hall --json
  spacecast recover town-hall --sign-key ~/.config/spacecast/sign.key`,
		Args: exactArgs("recover", 1, "SESSION_DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var key ed25519.PrivateKey
			if signKey != "" {
				k, err := session.LoadPrivateKey(signKey)
				if err != nil {
					return inputErr(fmt.Errorf("recover: --sign-key: %w", err))
				}
				key = k
			}
			if recorderAlive(args[0]) {
				return inputErr(fmt.Errorf("recover: %s is being recorded right now (its recorder answers on its control socket): "+
					"stop it (Ctrl-C, SIGTERM) and it finalizes the session itself", args[0]))
			}
			rep, err := capture.Recover(args[0])
			if err != nil {
				return inputErr(fmt.Errorf("recover: %w", err))
			}
			sealed, err := sealIfUnsealed(args[0], key)
			if err != nil {
				return inputErr(fmt.Errorf("recover: %w", err))
			}
			if g.json {
				return writeJSON(g.stdout, struct {
					*capture.RecoverReport
					Sealed string `json:"sealed"`
				}{rep, sealed})
			}
			defer fmt.Fprintf(g.stdout, "seal: %s\n", sealed)
			if rep.AlreadyFinalized {
				fmt.Fprintf(g.stdout, "%s is already finalized (%s); nothing to recover\n", args[0], rep.Duration.Round(1e6))
				return nil
			}
			fmt.Fprintf(g.stdout, "recovered %s: %s\n", args[0], rep.Duration.Round(1e6))
			for _, t := range rep.Tracks {
				switch {
				case t.Missing:
					fmt.Fprintf(g.stdout, "  %-4s no audio was written before the crash; dropped\n", t.ID)
				case t.Repaired:
					fmt.Fprintf(g.stdout, "  %-4s %.2f s (cut after its last whole page)\n", t.ID, float64(t.Samples)/48000)
				default:
					fmt.Fprintf(g.stdout, "  %-4s %.2f s\n", t.ID, float64(t.Samples)/48000)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&signKey, "sign-key", "", "private key file (from 'spacecast keygen') to sign the session with when sealing it")
	return cmd
}

// sealIfUnsealed seals the finalized session in dir unless its manifest already lists digests,
// and says what it did.
func sealIfUnsealed(dir string, key ed25519.PrivateKey) (string, error) {
	s, err := session.Open(dir)
	if err != nil {
		return "", err
	}
	if len(s.Manifest.Files) > 0 {
		return "already sealed; not sealed again", nil
	}
	if err := session.Seal(dir, key); err != nil {
		return "", err
	}
	if key != nil {
		return "sealed and signed (spacecast verify checks it)", nil
	}
	return "sealed, unsigned (spacecast verify checks it)", nil
}
