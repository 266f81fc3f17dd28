package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spacecast/spacecast/pkg/capture"
)

func newRecoverCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "recover SESSION_DIR",
		Short: "Finish a session whose recorder was killed, losing at most its last seconds",
		Long: `Recover finalizes a session left unfinished by a recorder that died (kill -9, a crash, power
loss, a full disk): each track file and the live mix are cut after their last whole page and
closed, the manifest gets their real lengths, and the session is marked finalized. The recorder
syncs every second, so at most the last 2 s are lost.

mix, clip and inspect already read an unrecovered session (and say it was not finalized);
recover makes it final. Running it on a finalized session changes nothing.`,
		Example: `  spacecast recover town-hall
  spacecast recover town-hall --json`,
		Args: exactArgs("recover", 1, "SESSION_DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := capture.Recover(args[0])
			if err != nil {
				return inputErr(fmt.Errorf("recover: %w", err))
			}
			if g.json {
				return writeJSON(g.stdout, rep)
			}
			if rep.AlreadyFinalized {
				fmt.Fprintf(g.stdout, "%s is already finalized (%s); nothing to do\n", args[0], rep.Duration.Round(1e6))
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
}
