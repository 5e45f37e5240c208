package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/cluster"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/importer"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/output"
	"github.com/kmend/kmend/internal/version"
)

type importFlags struct {
	format string
	failOn string
	live   clusterFlags
}

func newImport(g *globals) *cobra.Command {
	f := &importFlags{}
	cmd := &cobra.Command{
		Use:   "import FILE... | - | --cluster",
		Short: "Read other scanners' reports and show their findings as kmend controls",
		Long: `import reads the reports of other scanners and lists their failing results as
kmend findings, mapped onto the catalog's controls through each control's
foreignIDs, so that kmend explain and the catalog's fixes apply to them.

It reads, as YAML or JSON, single objects, kind: List and multi-document
files (what kubectl get -o yaml prints):
  wgpolicyk8s.io PolicyReport, ClusterPolicyReport   Kyverno, and adapters
                                                     such as trivy-operator's
  openreports.io Report, ClusterReport               Kyverno 1.15+, kyverno apply -p
  aquasecurity.github.io ConfigAuditReport,          trivy-operator
    ClusterConfigAuditReport
  kubescape scan --format json                       Kubescape results

Only failing results become findings (fail, warn and error results; failed
Kubescape controls; Trivy checks with success: false), with reason
"reported", the report's object, severity and message. A Kyverno result maps
by policy name, then by the Pod Security Standards checks its properties
list; a Kubescape result by control ID (C-0057); a Trivy check by check ID
(KSV017 or AVD-KSV-0017). An ID that maps onto several controls gives a
finding for each. A result that maps onto no control is still listed, as
EXT-<tool>-<id> with its own title and text, to be fixed by hand.

trivy-operator reports a Deployment on its current ReplicaSet; from files,
import names the ReplicaSet, as the report does, and does not guess the
Deployment.

--cluster reads the reports from the cluster instead (kubeconfig, or the
pod's service account inside a cluster; -n for one namespace's reports):
PolicyReports and ClusterPolicyReports (wgpolicyk8s.io/v1alpha2), Reports and
ClusterReports (openreports.io/v1alpha1) and ConfigAuditReports and
ClusterConfigAuditReports (aquasecurity.github.io/v1alpha1); a kind whose CRD
is not installed is skipped. The object of each finding is then looked up
in the cluster and its controller owner references are walked, so a
finding reported on a ReplicaSet, a Job or a Pod lands on the Deployment,
CronJob or other workload a person wrote (paths into the pod spec follow,
and the message says where it was reported).

Exit codes, as for scan: 0 no finding at or above --fail-on, 1 findings, 2 a
report (or an entry of one) could not be read; the other entries and files
are still imported. See docs/import.md.`,
		Example: `  # Kyverno's reports, from a cluster
  kubectl get policyreports,clusterpolicyreports -A -o yaml > reports.yaml
  kmend import reports.yaml

  # OpenReports and trivy-operator's ConfigAuditReports, from standard input
  kubectl get reports.openreports.io,configauditreports -A -o yaml | kmend import -

  # Kubescape's results
  kubescape scan --format json --output results.json .
  kmend import results.json

  # several reports at once, as JSON or SARIF
  kmend import -o json reports.yaml results.json > findings.json
  kmend import -o sarif reports.yaml > imported.sarif

  # fail a pipeline only on high and critical findings
  kmend import --fail-on high reports.yaml

  # every report in the cluster, findings moved onto the Deployments
  kmend import --cluster --context prod -o json`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(g, f, args, cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "output", "o", "table", "output `FORMAT`: table, json or sarif")
	fl.StringVar(&f.failOn, "fail-on", "info", "exit 1 when a finding is at or above `SEVERITY` (info, low, medium, high, critical)")
	fl.BoolVar(&f.live.live, "cluster", false, "read the reports from the cluster (kubeconfig, or in-cluster config) instead of files")
	fl.StringVar(&f.live.kubeconfig, "kubeconfig", "", "with --cluster: the kubeconfig `FILE` (default $KUBECONFIG or ~/.kube/config)")
	fl.StringVar(&f.live.context, "context", "", "with --cluster: the kubeconfig `CONTEXT` to use")
	fl.StringVarP(&f.live.namespace, "namespace", "n", "", "with --cluster: read only this `NAMESPACE`'s reports (default: all, cluster-scoped ones too)")
	return cmd
}

func runImport(g *globals, f *importFlags, args []string, stdin io.Reader, stdout io.Writer) error {
	failOn, err := finding.ParseSeverity(f.failOn)
	if err != nil {
		return withCode(exitError, fmt.Errorf("--fail-on: %w", err))
	}
	switch f.format {
	case "table", "json", "sarif":
	default:
		return withCode(exitError, fmt.Errorf("-o %q: want table, json or sarif", f.format))
	}
	if f.live.live && len(args) > 0 {
		return withCode(exitError, fmt.Errorf("--cluster reads the cluster: give no FILE (%s)", strings.Join(args, " ")))
	}
	if len(args) == 0 && !f.live.live {
		return withCode(exitError, errors.New("no input: give report files, - for standard input, or --cluster"))
	}
	cat, err := g.catalog()
	if err != nil {
		return err
	}

	var results []*importer.Result
	var inputErrs []output.InputError
	files := 0
	inputs := args
	if f.live.live {
		res, where, err := importCluster(context.Background(), &f.live, cat)
		if err != nil {
			return withCode(exitError, err)
		}
		results = append(results, res)
		inputs = []string{where}
		files = 1
	}
	stdinRead := false
	for _, name := range args {
		display := name
		if name == "-" {
			display = manifest.StdinName
			if stdinRead {
				inputErrs = append(inputErrs, output.InputError{File: display, Message: "standard input given twice"})
				continue
			}
			stdinRead = true
		}
		data, err := readReport(name, stdin, g.maxFileSize)
		if err != nil {
			inputErrs = append(inputErrs, output.InputError{File: display, Message: err.Error()})
			continue
		}
		res, err := importer.Parse(display, data, cat)
		if err != nil {
			inputErrs = append(inputErrs, output.InputError{File: display, Message: strings.TrimPrefix(err.Error(), display+": ")})
			continue
		}
		files++
		results = append(results, res)
	}
	res := importer.Merge(results...)
	for _, e := range res.Errors {
		msg := fmt.Sprintf("document %d", e.Document)
		if e.Entry != "" {
			msg += ", " + e.Entry
		}
		inputErrs = append(inputErrs, output.InputError{File: e.Name, Line: e.Line, Message: msg + ": " + e.Err.Error()})
	}

	rep := &output.Report{
		Schema:   output.SchemaVersion,
		Tool:     output.Tool{Name: "kmend", Version: version.Version},
		Inputs:   inputs,
		Rules:    rules(res.Controls(cat)),
		Errors:   inputErrs,
		Findings: append(append([]finding.Finding{}, res.Findings...), res.Unmapped...),
	}
	finding.Sort(rep.Findings)
	rep.Summary = output.Summarize(rep, files, len(res.Objects()), res.Score(cat))

	return g.emit(stdout, rep, f.format, false, failOn)
}

// importCluster reads every report in the cluster and moves findings onto
// the objects people wrote. It returns the result and names the input.
func importCluster(ctx context.Context, live *clusterFlags, cat *catalog.Catalog) (*importer.Result, string, error) {
	cfg, err := cluster.Config(cluster.ConfigOptions{Kubeconfig: live.kubeconfig, Context: live.context})
	if err != nil {
		return nil, "", err
	}
	name := live.context
	if name == "" {
		name = cfg.Host
	}
	objs, err := cluster.ReportObjects(ctx, cfg, cluster.ReportOptions{Namespace: live.namespace})
	if err != nil {
		return nil, "", err
	}
	raw := make([]map[string]any, len(objs))
	for i, o := range objs {
		raw[i] = o.Object
	}
	res := importer.ParseObjects(raw, cat)
	owners, err := cluster.NewOwners(cfg)
	if err != nil {
		return nil, "", err
	}
	var walkErr error
	res = res.Lift(func(ref finding.ObjectRef) (finding.ObjectRef, bool) {
		ref.Cluster = name
		top, ok, err := owners.Top(ctx, ref)
		if err != nil {
			walkErr = cmp.Or(walkErr, err)
		}
		if !ok {
			return ref, true
		}
		return top, true
	})
	if walkErr != nil {
		return nil, "", fmt.Errorf("walking owner chains: %w", walkErr)
	}
	return res, "cluster " + name, nil
}

// readReport reads a report file, or standard input for "-", refusing more
// than max bytes.
func readReport(name string, stdin io.Reader, max int64) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		if stdin == nil {
			stdin = os.Stdin
		}
		r = stdin
	} else {
		fi, err := os.Stat(name)
		if err != nil {
			return nil, unwrapPathError(err)
		}
		if fi.IsDir() {
			return nil, errors.New("is a directory (give the report files)")
		}
		file, err := os.Open(name)
		if err != nil {
			return nil, unwrapPathError(err)
		}
		defer file.Close()
		r = file
	}
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("larger than %d bytes (--max-file-size)", max)
	}
	return data, nil
}

// unwrapPathError drops the path from an *os.PathError: the report's name
// is shown beside the message already.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
