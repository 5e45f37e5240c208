package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/output"
	"github.com/kmend/kmend/internal/patch"
	"github.com/kmend/kmend/internal/score"
	"github.com/kmend/kmend/internal/version"
)

type scanFlags struct {
	selection
	live    clusterFlags
	format  string
	failOn  string
	verbose bool
}

func newScan(g *globals) *cobra.Command {
	f := &scanFlags{}
	cmd := &cobra.Command{
		Use:   "scan PATH... | - | --cluster",
		Short: "Check manifests against the catalog and say why each control failed",
		Long: `scan reads YAML files, directories (recursively) and - (standard input, for
example a kubectl get -o yaml snapshot) and checks every workload (Pod,
Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job,
CronJob) and every container in it, init and ephemeral ones included.

Each finding names the control, the object, the container, the field path,
the observed value and the reason:
  unset      the field is absent, so a risky default applies
  risky      the field is set to a risky value
  inherited  the container does not set it; the pod-level value decides

Non-Kubernetes YAML is skipped quietly; a broken file is reported with its
file and line and every other file is still scanned.

Exit codes: 0 no finding at or above --fail-on, 1 findings, 2 error (bad
usage or an input that could not be read).`,
		Example: `  kmend scan ./deploy
  kmend scan -o json ./deploy > report.json
  kmend scan -o sarif . > kmend.sarif          # for GitHub code scanning
  kubectl get deploy,sts,ds -A -o yaml | kmend scan -
  kmend scan --cluster --context prod -n shop   # live workloads, owner chains walked
  kmend scan --controls KM-001,KM-002 --fail-on high ./deploy`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(g, f, args, cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "output", "o", "table", "output `FORMAT`: table, json, sarif or patch")
	fl.StringVar(&f.failOn, "fail-on", "info", "exit 1 when a finding is at or above `SEVERITY` (info, low, medium, high, critical)")
	fl.StringSliceVar(&f.controls, "controls", nil, "check only these control `IDs` (comma-separated)")
	fl.StringVar(&f.minSeverity, "min-severity", "", "check only controls at or above `SEVERITY`")
	fl.StringArrayVar(&f.params, "set", nil, "override a fix parameter: `CONTROL.PARAM=VALUE` (repeatable)")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "table: show rationale and suppressed findings")
	f.live.register(fl)
	return cmd
}

func runScan(g *globals, f *scanFlags, args []string, stdin io.Reader, stdout io.Writer) error {
	failOn, err := finding.ParseSeverity(f.failOn)
	if err != nil {
		return withCode(exitError, fmt.Errorf("--fail-on: %w", err))
	}
	switch f.format {
	case "table", "json", "sarif", "patch":
	default:
		return withCode(exitError, fmt.Errorf("-o %q: want table, json, sarif or patch", f.format))
	}
	in, err := g.prepareFrom(&f.selection, &f.live, args, stdin)
	if err != nil {
		return err
	}
	// A snapshot holds what controllers made too: check the owners.
	in.set.Objects = manifest.WithoutControlled(in.set.Objects)
	results := runChecks(in.set, in.controls, in.check)
	rep := buildReport(args, in.set, in.controls, results)

	format := f.format
	if format == "patch" {
		if err := writePatches(stdout, results); err != nil {
			return withCode(exitError, err)
		}
		format = "" // written: emit only decides the exit code
	}
	return g.emit(stdout, rep, format, f.verbose, failOn)
}

func buildReport(inputs []string, set *manifest.Set, controls []*catalog.Control, results []check.Result) *output.Report {
	rep := &output.Report{
		Schema: output.SchemaVersion,
		Tool:   output.Tool{Name: "kmend", Version: version.Version},
		Inputs: inputs,
		Rules:  rules(controls),
		Errors: inputErrors(set),
	}
	for _, sk := range set.Skipped {
		rep.Skipped = append(rep.Skipped, output.Skipped{File: sk.Path, Reason: sk.Reason})
	}
	// Findings are large: count the suppressed ones first so that each
	// list is allocated once, and copy each finding once.
	suppressed := 0
	for i := range results {
		if results[i].Finding.Suppression != nil {
			suppressed++
		}
	}
	rep.Findings = make([]finding.Finding, 0, len(results)-suppressed)
	if suppressed > 0 {
		rep.Suppressed = make([]finding.Finding, 0, suppressed)
	}
	for i := range results {
		if f := &results[i].Finding; f.Suppression != nil {
			rep.Suppressed = append(rep.Suppressed, *f)
		} else {
			rep.Findings = append(rep.Findings, *f)
		}
	}
	finding.Sort(rep.Findings)
	finding.Sort(rep.Suppressed)
	sc := score.Overall(set.Objects, controls, results)
	rep.Summary = output.Summarize(rep, len(set.Files), len(set.Objects), sc.Overall.Score)
	return rep
}

// writePatches prints the manual fallback for every fixable finding.
func writePatches(w io.Writer, results []check.Result) error {
	var fixes []*patch.Fix
	for _, r := range results {
		if r.Finding.Suppression != nil || r.Control.Fix.StrategicMerge == "" {
			continue
		}
		fx, err := patch.New(r, r.Root)
		if err != nil {
			fmt.Fprintf(os.Stderr, "kmend: %s %s: %v\n", r.Finding.ControlID, r.Finding.Object, err)
			continue
		}
		fixes = append(fixes, fx)
	}
	return output.WritePatches(w, fixes)
}
