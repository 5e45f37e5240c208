package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/cluster"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/output"
	"github.com/kmend/kmend/internal/parallel"
	"github.com/kmend/kmend/internal/sourcemap"
)

type locateFlags struct {
	selection
	live    clusterFlags
	repo    string
	repoURL string
	format  string
}

// located is one object with findings and where it is defined.
type located struct {
	Object     finding.ObjectRef    `json:"object"`
	Location   *sourcemap.Location  `json:"location,omitempty"`
	Candidates []sourcemap.Location `json:"candidates,omitempty"`
	Error      string               `json:"error,omitempty"`
	Findings   []finding.Finding    `json:"findings"`
}

func newLocate(g *globals) *cobra.Command {
	f := &locateFlags{}
	cmd := &cobra.Command{
		Use:   "locate PATH... | - | --cluster",
		Short: "Trace each live finding to the repository file, document and line that define it",
		Long: `locate checks live objects (from the cluster, or a kubectl get -o yaml
snapshot) and, for every object with findings, says where it is defined:
repository, ref, file, YAML document and line, how that was found (via) and
how sure it is (confidence):

  annotation  kmend's source.kmend.dev/* annotations          high
  origin      kustomize's config.kubernetes.io/origin         high or medium
  argocd      argocd.argoproj.io/tracking-id, then the Application's
              source (app-of-apps, sources[], $values refs)   medium
  flux        kustomize.toolkit.fluxcd.io/* and helm.toolkit.fluxcd.io/*
              labels, the Kustomization/HelmRelease and its GitRepository
  search      the object found by kind and name in the checkout   low

Tracking metadata that names another object is not trusted; two equally good
candidates are reported as ambiguous, never picked at random; paths from
annotations and custom resources cannot leave the checkout. Argo CD
Applications and Flux objects are read from the cluster with --cluster, or
from the input files.

Exit codes: 0 every object with findings was located, 1 some were not
(not found, ambiguous, untrusted, outside the checkout), 2 error.`,
		Example: `  kmend locate --cluster --repo ~/src/gitops --repo-url https://github.com/acme/gitops
  kubectl get deploy,applications -A -o yaml > live.yaml
  kmend locate live.yaml --repo .`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLocate(g, f, args, cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.repo, "repo", ".", "the local checkout `DIR` of the repository that defines the objects")
	fl.StringVar(&f.repoURL, "repo-url", "", "the checkout's repository `URL`, as Argo CD and Flux name it")
	fl.StringVarP(&f.format, "output", "o", "table", "output `FORMAT`: table or json")
	fl.StringSliceVar(&f.controls, "controls", nil, "check only these control `IDs`")
	fl.StringVar(&f.minSeverity, "min-severity", "", "check only controls at or above `SEVERITY`")
	f.live.register(fl)
	return cmd
}

func runLocate(g *globals, f *locateFlags, args []string, stdin io.Reader, w io.Writer) error {
	if f.format != "table" && f.format != "json" {
		return withCode(exitError, fmt.Errorf("-o %q: want table or json", f.format))
	}
	// Objects are checked as they are read, and only their heads (what
	// locating them needs) are kept: a large snapshot is never held whole.
	in, err := g.prepareCatalog(&f.selection)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	found := map[*yaml.RNode][]finding.Finding{}
	visit := func(o *manifest.Object) {
		var fs []finding.Finding
		for _, r := range check.Run(in.controls, *o, in.check) {
			if r.Finding.Suppression == nil {
				fs = append(fs, r.Finding)
			}
		}
		if !sourcemap.IsGitOps(o.Ref.APIVersion, o.Ref.Kind) {
			o.Node = manifest.Head(o.Node)
		}
		if len(fs) > 0 {
			mu.Lock()
			found[o.Node] = fs
			mu.Unlock()
		}
	}
	if f.live.live {
		if len(args) > 0 {
			return withCode(exitError, fmt.Errorf("--cluster reads the cluster: give no PATH (%s)", strings.Join(args, " ")))
		}
		if in.set, err = f.live.snapshot(context.Background()); err != nil {
			return err
		}
		objs := in.set.Objects
		parallel.Each(len(objs), func(i int) { visit(&objs[i]) }, nil)
	} else {
		// Only what can have findings, and the Argo CD and Flux objects
		// that locate them, is read whole.
		g.readOnly, g.visit = true, visit
		g.kinds = func(apiVersion, kind string) bool {
			return check.AppliesToKind(in.controls, kind) || sourcemap.IsGitOps(apiVersion, kind)
		}
		if in.set, err = g.load(args, stdin); err != nil {
			return err
		}
	}
	m, err := newMapper(f.repo, f.repoURL, &f.live, in.set.Objects)
	if err != nil {
		return withCode(exitError, err)
	}
	var out []located
	missing := false
	objs := manifest.WithoutControlled(in.set.Objects)
	// Look-ups are independent per object: they run in parallel (the
	// Mapper is safe for concurrent use).
	per := make([]*located, len(objs))
	parallel.Each(len(objs), func(i int) {
		o := objs[i]
		fs := found[o.Node]
		if len(fs) == 0 {
			return
		}
		res := m.Locate(o.Node)
		l := &located{Object: o.Ref, Location: res.Location, Candidates: res.Candidates, Findings: fs}
		if res.Err != nil {
			l.Error = res.Err.Error()
		}
		per[i] = l
	}, nil)
	for _, l := range per {
		if l == nil {
			continue
		}
		missing = missing || l.Error != ""
		out = append(out, *l)
	}
	if f.format == "json" {
		if err := writeLocatedJSON(w, out); err != nil {
			return withCode(exitError, err)
		}
	} else {
		writeLocated(w, out)
	}
	if len(in.set.Errors) > 0 {
		return withCode(exitError, nil)
	}
	if missing {
		return withCode(exitFindings, nil)
	}
	return nil
}

// newMapper builds the source mapper for a checkout: the Argo CD and Flux
// objects come from the cluster with --cluster, else from the inputs.
func newMapper(repo, repoURL string, live *clusterFlags, inputs []manifest.Object) (*sourcemap.Mapper, error) {
	ctx := sourcemap.Context{Repos: map[string]string{"": repo}}
	if repoURL != "" {
		ctx.Repos[repoURL] = repo
	}
	gitops := inputs
	if live.live {
		cfg, err := cluster.Config(cluster.ConfigOptions{Kubeconfig: live.kubeconfig, Context: live.context})
		if err != nil {
			return nil, err
		}
		if gitops, err = cluster.GitOpsObjects(context.Background(), cfg); err != nil {
			return nil, err
		}
	}
	for _, o := range gitops {
		ctx.AddGitOps(o.Node)
	}
	return sourcemap.NewMapper(ctx)
}

// writeLocatedJSON writes the list as an indented JSON array, one window
// of elements at a time, each window marshalled in parallel: a report of
// a large cluster is never held whole in memory, and is written at the
// speed of the cores.
func writeLocatedJSON(w io.Writer, out []located) error {
	if len(out) == 0 {
		_, err := io.WriteString(w, "[]\n")
		return err
	}
	const window = 512
	bw := bufio.NewWriter(w)
	bw.WriteString("[\n  ")
	bufs := make([][]byte, window)
	errs := make([]error, window)
	for start := 0; start < len(out); start += window {
		n := min(window, len(out)-start)
		parallel.Each(n, func(i int) {
			bufs[i], errs[i] = appendLocated(bufs[i][:0], &out[start+i])
		}, nil)
		for i := range n {
			if errs[i] != nil {
				return errs[i]
			}
			bw.Write(bufs[i])
			if start+i < len(out)-1 {
				bw.WriteString(",\n  ")
			}
		}
	}
	bw.WriteString("\n]\n")
	return bw.Flush()
}

// locatedFinding writes the findings of a located object as
// json.MarshalIndent would, without reflection: they are most of a
// report's bytes.
var locatedFinding = output.NewFindingJSON("      ", false, true)

// appendLocated appends l as json.MarshalIndent(l, "  ", "  ") writes it
// (TestWriteLocatedJSONWindows holds it to that).
func appendLocated(b []byte, l *located) ([]byte, error) {
	member := func(k string, v any) error {
		j, err := json.MarshalIndent(v, "    ", "  ")
		b = append(append(append(b, "\n    \""...), k...), "\": "...)
		b = append(append(b, j...), ',')
		return err
	}
	b = append(b, '{')
	if err := member("object", l.Object); err != nil {
		return nil, err
	}
	if l.Location != nil {
		if err := member("location", l.Location); err != nil {
			return nil, err
		}
	}
	if len(l.Candidates) > 0 {
		if err := member("candidates", l.Candidates); err != nil {
			return nil, err
		}
	}
	if l.Error != "" {
		if err := member("error", l.Error); err != nil {
			return nil, err
		}
	}
	b = append(b, "\n    \"findings\": "...)
	if l.Findings == nil {
		b = append(b, "null"...)
	} else if len(l.Findings) == 0 {
		b = append(b, "[]"...)
	} else {
		b = append(b, '[')
		for i := range l.Findings {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n      "...)
			b = locatedFinding.Append(b, &l.Findings[i])
		}
		b = append(b, "\n    ]"...)
	}
	return append(b, "\n  }"...), nil
}

func writeLocated(w io.Writer, out []located) {
	if len(out) == 0 {
		fmt.Fprintln(w, "No findings.")
		return
	}
	for i, l := range out {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s  (%d findings)\n", l.Object, len(l.Findings))
		switch {
		case l.Location != nil:
			fmt.Fprintf(w, "  → %s\n", where(*l.Location))
			fmt.Fprintf(w, "    via %s, confidence %s: %s\n", l.Location.Via, l.Location.Confidence, l.Location.Detail)
		default:
			fmt.Fprintf(w, "  → not located: %s\n", l.Error)
			for _, c := range l.Candidates {
				fmt.Fprintf(w, "    candidate %s (via %s)\n", where(c), c.Via)
			}
		}
		for _, fd := range l.Findings {
			fmt.Fprintf(w, "    %-8s %-7s %s", fd.Severity, fd.ControlID, fd.Reason)
			if fd.Container != "" {
				fmt.Fprintf(w, "  container %s", fd.Container)
			}
			fmt.Fprintf(w, "  %s\n", fd.Path)
		}
	}
}

func where(l sourcemap.Location) string {
	s := l.File
	if s == "" {
		s = "(no file: " + string(l.Kind) + ")"
	} else if l.Line > 0 {
		s = fmt.Sprintf("%s:%d (document %d)", s, l.Line, l.Document)
	}
	if l.Repo != "" {
		s = l.Repo + "//" + s
		if l.Ref != "" {
			s += " @" + l.Ref
		}
	}
	return s
}
