package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/kmend/kmend/internal/output"
	"github.com/kmend/kmend/internal/version"
)

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print kmend's version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, args []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "kmend %s (%s, %s/%s, report schema %s)\n", version.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH, output.SchemaVersion)
		},
	}
}
