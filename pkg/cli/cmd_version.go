package cli

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
)

func newVersionCommand(info BuildInfo, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print spacecast's version, commit and build date",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVersion(info, g)
		},
	}
}

func runVersion(info BuildInfo, g *globalOptions) error {
	v := struct {
		Version string `json:"version"`
		Commit  string `json:"commit"`
		Date    string `json:"date"`
		Go      string `json:"go"`
		OS      string `json:"os"`
		Arch    string `json:"arch"`
	}{info.Version, info.Commit, info.Date, runtime.Version(), runtime.GOOS, runtime.GOARCH}
	if g.json {
		return json.NewEncoder(g.stdout).Encode(v)
	}
	_, err := fmt.Fprintf(g.stdout, "spacecast %s (commit %s, built %s, %s %s/%s)\n", v.Version, v.Commit, v.Date, v.Go, v.OS, v.Arch)
	return err
}
