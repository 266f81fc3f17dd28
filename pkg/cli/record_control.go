package cli

import (
	"fmt"

	"github.com/spacecast/spacecast/pkg/cli/ui"
	"github.com/spacecast/spacecast/pkg/record/control"
)

// runRecordControl is `spacecast record --pause DIR` / `--resume DIR`: it asks the recorder
// writing DIR through its control socket (package control).
func runRecordControl(op, dir string, g *globalOptions) error {
	rep, err := control.Send(dir, control.Op(op))
	if err != nil {
		return err // a *control.SendError: the error table words it (errors.go)
	}
	if g.json {
		ui.WriteJSONLine(g.stdout, rep)
	} else if !g.quiet {
		fmt.Fprintf(g.stdout, "%s: %s\n", dir, term(rep.Message))
	}
	if !rep.OK {
		return fmt.Errorf("record --%s: %s: %s", op, dir, rep.Message)
	}
	return nil
}
