// Command kmend finds Kubernetes security-posture violations in manifests
// and clusters, explains why each control failed, and fixes them where they
// are defined, touching nothing else.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/startup"
)

// Exit codes, stable across versions.
const (
	exitOK       = 0 // clean: nothing at or above --fail-on
	exitFindings = 1 // findings (scan), or fixes that could not be verified (fix)
	exitError    = 2 // bad usage, unreadable input, failed write
)

// exitError carries an exit code through cobra.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func withCode(code int, err error) error { return &codeError{code: code, err: err} }

func main() {
	startup.Done()
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := &globals{}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if g.stopProfile != nil {
		if perr := g.stopProfile(); perr != nil && err == nil {
			err = withCode(exitError, perr)
		}
	}
	if err == nil {
		return exitOK
	}
	var ce *codeError
	if errors.As(err, &ce) {
		if ce.err != nil {
			fmt.Fprintln(stderr, "kmend:", ce.err)
		}
		return ce.code
	}
	fmt.Fprintln(stderr, "kmend:", err)
	return exitError
}

// globals are the flags every command shares.
type globals struct {
	catalogDirs []string
	noColor     bool
	quiet       bool
	maxFileSize int64
	// readOnly is set by commands that never edit their inputs (locate):
	// objects a controller owns are dropped as files are read.
	readOnly bool
	// visit, with readOnly, sees each object as it is read (see
	// manifest.Options.Visit).
	visit func(*manifest.Object)
	// kinds, with readOnly, keeps only objects of these kinds (see
	// manifest.Options.Kinds).
	kinds func(apiVersion, kind string) bool
	// cpuProfile and memProfile name pprof files to write (hidden flags,
	// for performance reports: go tool pprof bin/kmend FILE).
	cpuProfile, memProfile string
	stopProfile            func() error
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "kmend",
		Short: "Find Kubernetes security-posture violations, say why, and fix them at their source",
		Long: `kmend checks Kubernetes manifests against a remediation catalog of security
controls (Pod Security Standards and the usual hardening checks), says why each
control failed (the field is unset, set to a risky value, or inherited from the
pod level), and fixes the YAML in place without disturbing anything else:
comments, order, indentation and --- separators are kept byte for byte.`,
		Example: `  # scan a repository and see why each control failed
  kmend scan ./deploy

  # preview the fixes as a diff, then write them
  kmend fix ./deploy --dry-run
  kmend fix ./deploy

  # learn about a control, or about the findings at a line
  kmend explain KM-002
  kmend explain deploy/web.yaml:17`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringArrayVar(&g.catalogDirs, "catalog", nil, "add custom controls from `DIR` (one directory per control; repeatable)")
	root.PersistentFlags().BoolVar(&g.noColor, "no-color", false, "never colour output (also: NO_COLOR=1)")
	root.PersistentFlags().BoolVarP(&g.quiet, "quiet", "q", false, "no progress or notes on stderr")
	root.PersistentFlags().Int64Var(&g.maxFileSize, "max-file-size", 8<<20, "refuse input files larger than `BYTES`")
	root.PersistentFlags().StringVar(&g.cpuProfile, "cpuprofile", "", "write a CPU profile to `FILE`")
	root.PersistentFlags().StringVar(&g.memProfile, "memprofile", "", "write a heap profile to `FILE` on exit")
	_ = root.PersistentFlags().MarkHidden("cpuprofile")
	_ = root.PersistentFlags().MarkHidden("memprofile")
	root.PersistentPreRunE = func(*cobra.Command, []string) (err error) {
		g.stopProfile, err = startProfile(g.cpuProfile, g.memProfile)
		return err
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return withCode(exitError, fmt.Errorf("%w\nRun '%s --help' for usage.", err, c.CommandPath()))
	})
	root.AddCommand(
		newScan(g),
		newFix(g),
		newExplain(g),
		newScore(g),
		newImport(g),
		newLocate(g),
		newCatalog(g),
		newApp(g),
		newServe(g),
		newVersion(),
	)
	return root
}
