package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/output"
	"github.com/kmend/kmend/internal/patch"
	"github.com/kmend/kmend/internal/remediate"
	"github.com/kmend/kmend/internal/render"
	"github.com/kmend/kmend/internal/yamledit"
)

type fixFlags struct {
	selection
	dryRun bool
	format string
	// refix fixes files again as they are on disk (set by runFix).
	refix      func(paths []string) []*remediate.FileResult
	fixability []string
	// Live mode: findings of live objects fixed in a checkout.
	live     clusterFlags
	repo     string
	repoURL  string
	findings string
	// --open-pr: the same, through the GitHub App, as pull requests.
	openPR bool
	config string
	// Charts of Helm repositories: --offline, --chart-cache.
	sources sourceFlags
}

func newFix(g *globals) *cobra.Command {
	f := &fixFlags{}
	cmd := &cobra.Command{
		Use:   "fix PATH... | -",
		Short: "Fix findings in place, touching nothing but the fixed fields",
		Long: `fix applies the catalog's fixes to the files that define each object. Every
fix is verified before it is written: the control must pass afterwards, the
strategic-merge and RFC 6902 forms of the patch must give exactly the edited
object, no other control may start failing, and the edited file is parsed
and checked again. A fix that fails any step is dropped and reported.

Only the edited nodes change: comments, blank lines, key order, indentation,
quoting, flow style, --- separators, CRLF line endings and the final newline
are kept. Unchanged files are not written; writes are atomic. Files with YAML
anchors/aliases and Helm templates are reported as not editable.

Kustomizations and Helm charts below a directory are fixed where their
values come from, and every kustomization and chart must render afterwards
with no change but the fixed fields:
  kustomize  the overlay's patch that sets the value; the base when every
             overlay that uses it needs the fix; otherwise a new patch file
             (kmend-<kind>-<name>.yaml) listed in the overlay
  Helm       the values key that controls the field (the chart's own values,
             then common conventions), set in values.yaml, or in the values
             of the Flux HelmRelease or Argo CD Application that deploys the
             chart; no key means a manual fix, with the patch for a
             post-renderer
A release whose chart comes from an HTTP(S) Helm repository or an OCI
registry (oci://, a Flux OCIRepository) has the chart fetched (as helm pull
does, digests checked; OCI with Helm's registry credentials, if any) into
--chart-cache; --offline reports such releases instead, without a request.
(docs/kustomize.md and docs/helm.md say how the place is chosen.)

By default only 'auto' fixes are applied. 'review' fixes (resource sizes,
settings that may break an app, values set on purpose with a comment) are
applied with --fixability auto,review. 'manual' findings are never changed:
kmend explain shows the patch to apply by hand.

With - as input, the fixed YAML is written to standard output.

Live mode (--repo DIR): the findings come from live objects — the cluster
(--cluster), kubectl get -o yaml snapshots given as PATHs, or a kmend JSON
report (--findings, from kmend scan or kmend import) — and are fixed where
those objects are defined in the checkout DIR. Each object is traced as
kmend locate traces it (annotations, kustomize origins, Argo CD and Flux
metadata, then a search); objects that cannot be traced, or whose source is
in another repository, are listed and left alone.

With --open-pr (and the App's --config, as kmend serve uses it), kmend
clones each repository the objects come from instead, with the App's
installation, and opens or updates one pull request there for the cluster's
findings (branch kmend/<cluster>-<hash>), as the App does on a push.

Exit codes: 0 done, 1 some fixes could not be verified and were dropped (or,
in live mode, some findings could not be traced to the checkout), 2 error
(bad usage, unreadable input, failed write).`,
		Example: `  kmend fix ./deploy --dry-run          # show the diff, write nothing
  kmend fix ./deploy                     # write the auto fixes
  kmend fix ./deploy --fixability auto,review --set KM-022.memory=512Mi
  kmend fix ./deploy --controls KM-002,KM-007 -o patch
  kubectl get deploy web -o yaml | kmend fix - > web.fixed.yaml
  kmend fix --cluster --context prod --repo ~/src/gitops --repo-url https://github.com/acme/gitops
  kmend scan --cluster -o json > live.json && kmend fix --findings live.json --repo .
  kmend fix --cluster --context prod --open-pr --config kmend.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFix(g, f, args, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.dryRun, "dry-run", false, "write nothing; show what would change (as a diff unless -o says otherwise)")
	fl.StringVarP(&f.format, "output", "o", "", "what to print: summary, diff or patch (default: summary, or diff with --dry-run)")
	fl.StringSliceVar(&f.fixability, "fixability", []string{"auto"}, "apply fixes of these `KINDS`: auto, review (comma-separated)")
	fl.StringSliceVar(&f.controls, "controls", nil, "fix only these control `IDs` (comma-separated)")
	fl.StringVar(&f.minSeverity, "min-severity", "", "fix only findings at or above `SEVERITY`")
	fl.StringArrayVar(&f.params, "set", nil, "override a fix parameter: `CONTROL.PARAM=VALUE` (repeatable)")
	fl.StringVar(&f.repo, "repo", "", "live mode: fix the findings of live objects in this checkout `DIR` (with --cluster, --findings or snapshot files)")
	fl.StringVar(&f.repoURL, "repo-url", "", "live mode: the checkout's repository `URL`, as Argo CD and Flux name it")
	fl.StringVar(&f.findings, "findings", "", "live mode: fix the findings of this kmend JSON report `FILE` (kmend scan|import -o json)")
	fl.BoolVar(&f.openPR, "open-pr", false, "live mode: open or update a pull request in each repository the objects come from, as the GitHub App (needs --config)")
	fl.StringVar(&f.config, "config", "", "with --open-pr: the GitHub App's configuration `FILE` (as for kmend serve)")
	f.live.register(fl)
	f.sources.register(fl)
	return cmd
}

func runFix(g *globals, f *fixFlags, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	format, fx, err := f.check()
	if err != nil {
		return err
	}
	if f.openPR {
		return runFixOpenPR(g, f, args, stdin, stdout, stderr)
	}
	if f.repo != "" || f.findings != "" || f.live.live {
		return runFixLive(g, f, format, fx, args, stdin, stdout, stderr)
	}
	in, err := g.prepare(&f.selection, args, stdin)
	if err != nil {
		return err
	}
	set := in.set
	var src *sources
	if !readsStdin(args) {
		// Kustomizations and Helm charts are fixed where their values
		// come from; their files are not fixed one by one.
		src = planSources(args, in, fx, f.sources)
		set = src.without(set)
	}
	for _, e := range inputErrors(set) {
		fmt.Fprintf(stderr, "kmend: %s\n", formatInputError(e))
	}
	results := remediate.Run(set, in.controls, remediate.Options{Fixability: fx, MinSeverity: in.minSeverity, Check: in.check})
	code := exitOK
	if len(set.Errors) > 0 {
		code = exitError
	}
	if src != nil {
		for _, err := range src.errs {
			code = exitError
			fmt.Fprintf(stderr, "kmend: %v\n", err)
		}
	}
	f.refix = func(paths []string) []*remediate.FileResult {
		again := manifest.Load(paths, manifest.Options{Limits: yamledit.Options{MaxBytes: g.maxFileSize}})
		for _, e := range inputErrors(again) {
			fmt.Fprintf(stderr, "kmend: %s\n", formatInputError(e))
		}
		return remediate.Run(again, in.controls, remediate.Options{Fixability: fx, MinSeverity: in.minSeverity, Check: in.check})
	}
	return f.finish(format, results, src, code, readsStdin(args), stdout, stderr)
}

// check validates the flags: the output format and the fixabilities.
func (f *fixFlags) check() (string, []finding.Fixability, error) {
	format := f.format
	if format == "" {
		format = "summary"
		if f.dryRun {
			format = "diff"
		}
	}
	switch format {
	case "summary", "diff", "patch":
	default:
		return "", nil, withCode(exitError, fmt.Errorf("-o %q: want summary, diff or patch", format))
	}
	var fx []finding.Fixability
	for _, s := range f.fixability {
		v := finding.Fixability(strings.TrimSpace(s))
		if v != finding.FixAuto && v != finding.FixReview {
			return "", nil, withCode(exitError, fmt.Errorf("--fixability %q: want auto or review (manual findings are never changed)", s))
		}
		fx = append(fx, v)
	}
	return format, fx, nil
}

// finish writes the fixed files (unless --dry-run) and prints what was
// done; code is the exit code so far.
func (f *fixFlags) finish(format string, results []*remediate.FileResult, src *sources, code int, toStdout bool, stdout, stderr io.Writer) error {
	written, fixes := 0, 0
	var applied []*patch.Fix
	var srcFiles []changedFile
	summary := io.Discard
	if format == "summary" {
		summary = stdout
	}
	// Source plans set aside because an earlier plan changes one of their
	// files are planned again once that is written, a few rounds at most.
	const maxRounds = 5
	srcWritten := map[string]bool{} // a file may be written in two rounds
	planned := src                  // its changes hold every round's files
	for round := 1; src != nil; round++ {
		retry := !f.dryRun && round < maxRounds
		n, ps, files, dropped := src.report(summary, stderr, retry)
		fixes += n
		applied = append(applied, ps...)
		srcFiles = append(srcFiles, files...)
		if dropped {
			code = max(code, exitFindings)
		}
		if f.dryRun {
			break
		}
		paths, err := src.write()
		for _, p := range paths {
			if !srcWritten[p] {
				srcWritten[p] = true
				written++
			}
		}
		if err != nil {
			code = exitError
			fmt.Fprintf(stderr, "kmend: %v\n", err)
			src.reportDeferred(stderr) // not planned again after a failed write
			break
		}
		if !retry {
			break
		}
		if src = src.again(); src != nil {
			for _, err := range src.errs {
				code = exitError
				fmt.Fprintf(stderr, "kmend: %v\n", err)
			}
		}
	}
	// A plain fix of a file that a source plan changes too (a Deployment
	// next to a HelmRelease) was planned on the file as it was: it is made
	// again on the written file, or with --dry-run reported as not made.
	var later []string
	results = slices.DeleteFunc(slices.Clone(results), func(r *remediate.FileResult) bool {
		if planned == nil || !r.Changed() || !planned.alsoChanges(r.Path) {
			return false
		}
		later = append(later, r.Path)
		return true
	})
	switch {
	case len(later) > 0 && f.dryRun:
		code = max(code, exitFindings)
		for _, p := range later {
			fmt.Fprintf(stderr, "kmend: not fixed: the findings of the objects in %s: the file is also changed by a kustomize or Helm fix; kmend fix makes them once that is written\n", p)
		}
	case len(later) > 0 && f.refix != nil:
		results = append(results, f.refix(later)...)
	}
	for _, r := range results {
		for _, d := range r.Dropped {
			code = max(code, exitFindings)
			fmt.Fprintf(stderr, "kmend: not fixed: %s %s at %s:%d: %s\n", d.Finding.ControlID, d.Finding.Object, d.Finding.Position.File, d.Finding.Position.Line, d.Reason)
		}
		for _, a := range r.Applied {
			applied = append(applied, a.Fix)
			fixes += len(a.Findings)
		}
		if !r.Changed() || f.dryRun {
			continue
		}
		if r.Path == manifest.StdinName {
			if _, err := stdout.Write(r.After); err != nil {
				return withCode(exitError, err)
			}
			continue
		}
		changed, err := yamledit.WriteFile(r.Path, r.After)
		if err != nil {
			code = exitError
			fmt.Fprintf(stderr, "kmend: write %s: %v\n", r.Path, err)
			continue
		}
		if abs, _ := filepath.Abs(r.Path); changed && !srcWritten[abs] {
			written++
		}
	}
	if !toStdout || f.dryRun {
		switch format {
		case "diff":
			for _, c := range srcFiles {
				writeDiff(stdout, c.path, c.before, c.after)
			}
			writeDiffs(stdout, results)
		case "patch":
			if err := output.WritePatches(stdout, applied); err != nil {
				return withCode(exitError, err)
			}
		default:
			writeFixSummary(stdout, results, f.dryRun, written, fixes, len(srcFiles))
		}
	}
	if code != exitOK {
		return withCode(code, nil)
	}
	return nil
}

func readsStdin(args []string) bool {
	for _, a := range args {
		if a == "-" {
			return true
		}
	}
	return false
}

func formatInputError(e output.InputError) string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Message)
}

func writeFixSummary(w io.Writer, results []*remediate.FileResult, dryRun bool, written, fixes, files int) {
	left := map[finding.Fixability]int{}
	for _, r := range results {
		if r.Changed() {
			files++
		}
		for _, a := range r.Applied {
			for _, fd := range a.Findings {
				fmt.Fprintf(w, "fixed  %-7s %s:%d  %s", fd.ControlID, fd.Position.File, fd.Position.Line, fd.Object)
				if fd.Container != "" {
					fmt.Fprintf(w, " container %s", fd.Container)
				}
				fmt.Fprintf(w, "  (%s)\n", fd.Reason)
			}
		}
		for _, fd := range r.Left {
			left[fd.Fixability]++
		}
	}
	if left[finding.FixReview] > 0 {
		fmt.Fprintf(w, "left   %d findings whose fixes need review: kmend fix --fixability auto,review\n", left[finding.FixReview])
	}
	if left[finding.FixManual] > 0 {
		fmt.Fprintf(w, "left   %d findings to fix by hand: kmend explain FILE:LINE shows the patch\n", left[finding.FixManual])
	}
	if dryRun {
		fmt.Fprintf(w, "would fix %d findings in %d files (dry run: nothing written)\n", fixes, files)
		return
	}
	fmt.Fprintf(w, "fixed %d findings; wrote %d files\n", fixes, written)
}

// writeDiffs prints a unified diff of every changed file.
func writeDiffs(w io.Writer, results []*remediate.FileResult) {
	for _, r := range results {
		if r.Changed() {
			writeDiff(w, r.Path, r.Before, r.After)
		}
	}
}

// writeDiff prints the unified diff of one file (a new file has no
// before).
func writeDiff(w io.Writer, path string, before, after []byte) {
	d, err := render.UnifiedDiff(path, before, after)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kmend: diff:", err)
		return
	}
	io.WriteString(w, d)
}
