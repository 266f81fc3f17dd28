package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"net"

	"github.com/spacecast/spacecast/pkg/cli/ui"
	"github.com/spacecast/spacecast/pkg/record/control"
)

// runRecordControl is `spacecast record --pause DIR` / `--resume DIR`: it asks the recorder
// writing DIR through its control socket (package control).
func runRecordControl(op, dir string, g *globalOptions) error {
	rep, err := control.Send(dir, control.Op(op))
	var (
		dial  *control.DialError
		reply *control.ReplyError
		file  *fs.PathError
		write *net.OpError
	)
	switch {
	case errors.Is(err, control.ErrNoRecorder):
		return inputErr(fmt.Errorf("record --%s: no recorder is running for %s (it has no %s file): "+
			"give the session folder a running 'spacecast record' writes", op, dir, control.FileName))
	case errors.As(err, &dial):
		return inputErr(fmt.Errorf("record --%s: the recorder of %s does not answer on %s (%v): is it still running?", op, dir, dial.Socket, dial.Err))
	case errors.As(err, &reply) && reply.Answer == "":
		return fmt.Errorf("record --%s: no answer from the recorder of %s: %w", op, dir, reply.Err)
	case errors.As(err, &reply):
		return fmt.Errorf("record --%s: the recorder of %s answered %q: %w", op, dir, reply.Answer, reply.Err)
	case errors.As(err, &file): // the control file cannot be read
		return inputErr(fmt.Errorf("record --%s: %w", op, file))
	case errors.As(err, &write):
		return fmt.Errorf("record --%s: %w", op, write)
	case err != nil:
		return fmt.Errorf("record --%s: %w", op, err)
	}
	if g.json {
		ui.WriteJSONLine(g.stdout, rep)
	} else if !g.quiet {
		fmt.Fprintf(g.stdout, "%s: %s\n", dir, term(rep.Message))
	}
	if !rep.OK {
		return &exitError{code: ExitFailure, err: fmt.Errorf("record --%s: %s: %s", op, dir, rep.Message)}
	}
	return nil
}
