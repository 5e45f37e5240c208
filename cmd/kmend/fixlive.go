package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/remediate"
)

// liveTarget is one located document of the checkout and the controls
// (with their containers) that fail on the live object it defines.
type liveTarget struct {
	file string
	doc  int
}

type liveWant struct {
	control, container string
}

// runFixLive fixes the findings of live objects in the checkout that
// defines them (fix --repo).
func runFixLive(g *globals, f *fixFlags, format string, fx []finding.Fixability, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if f.repo == "" {
		return withCode(exitError, errors.New("--cluster and --findings fix live findings in a checkout: give --repo DIR"))
	}
	if st, err := os.Stat(f.repo); err != nil || !st.IsDir() {
		return withCode(exitError, fmt.Errorf("--repo %s: not a directory", f.repo))
	}
	if len(args) == 0 && !f.live.live && f.findings == "" {
		return withCode(exitError, errors.New("--repo: say where the live findings come from: --cluster, --findings FILE or snapshot PATHs"))
	}
	var in *inputs
	var err error
	if len(args) > 0 || f.live.live {
		in, err = g.prepareFrom(&f.selection, &f.live, args, stdin)
	} else {
		in, err = g.prepareCatalog(&f.selection)
	}
	if err != nil {
		return err
	}
	for _, e := range inputErrors(in.set) {
		fmt.Fprintf(stderr, "kmend: %s\n", formatInputError(e))
	}
	objects := manifest.WithoutControlled(in.set.Objects)
	live, err := liveFindings(f.findings, in, objects)
	if err != nil {
		return err
	}
	m, err := newMapper(f.repo, f.repoURL, &f.live, in.set.Objects)
	if err != nil {
		return withCode(exitError, err)
	}

	code := exitOK
	if len(in.set.Errors) > 0 {
		code = exitError
	}
	byObject := map[string][]finding.Finding{}
	var order []finding.ObjectRef
	for _, fd := range live {
		k := fd.Object.String()
		if _, ok := byObject[k]; !ok {
			order = append(order, fd.Object)
		}
		byObject[k] = append(byObject[k], fd)
	}
	nodes := map[string]*yaml.RNode{}
	for _, o := range objects {
		nodes[o.Ref.String()] = o.Node
	}
	wants := map[liveTarget]map[liveWant]bool{}
	shown := map[liveTarget]string{}
	var files []string
	for _, ref := range order {
		node := nodes[ref.String()]
		if node == nil {
			node = stubObject(ref)
		}
		res := m.Locate(node)
		switch {
		case res.Err != nil:
			code = max(code, exitFindings)
			fmt.Fprintf(stdout, "not located  %s: %v\n", ref, res.Err)
			continue
		}
		dir, ok := m.Checkout(res.Location.Repo)
		switch {
		case !ok:
			code = max(code, exitFindings)
			src := res.Location.Repo
			if res.Location.Path != "" {
				src += "//" + res.Location.Path
			}
			if res.Location.Ref != "" {
				src += " @" + res.Location.Ref
			}
			fmt.Fprintf(stdout, "elsewhere    %s → %s: another repository; check it out and pass --repo and --repo-url\n", ref, src)
			continue
		case res.Location.File == "":
			code = max(code, exitFindings)
			fmt.Fprintf(stdout, "no file      %s: %s (%s)\n", ref, res.Location.Detail, res.Location.Kind)
			continue
		}
		fmt.Fprintf(stdout, "located      %s → %s (via %s, confidence %s)\n", ref, where(*res.Location), res.Location.Via, res.Location.Confidence)
		t := liveTarget{file: display(filepath.Join(dir, filepath.FromSlash(res.Location.File))), doc: res.Location.Document}
		if wants[t] == nil {
			wants[t] = map[liveWant]bool{}
			shown[t] = where(*res.Location)
			if !slices.Contains(files, t.file) {
				files = append(files, t.file)
			}
		}
		for _, fd := range byObject[ref.String()] {
			wants[t][liveWant{fd.ControlID, fd.Container}] = true
		}
	}
	if len(files) == 0 {
		fmt.Fprintln(stdout, "nothing to fix in the checkout")
		return withCode(max(code, exitOK), nil)
	}
	set := manifest.Load(files, manifest.Options{})
	for _, e := range inputErrors(set) {
		code = exitError
		fmt.Fprintf(stderr, "kmend: %s\n", formatInputError(e))
	}
	selected := func(fd finding.Finding) bool {
		w := wants[liveTarget{file: filepath.Clean(fd.Position.File), doc: fd.Position.Document}]
		// An imported finding may not name the container: any container
		// of the object then matches.
		return w[liveWant{fd.ControlID, fd.Container}] || w[liveWant{fd.ControlID, ""}]
	}
	results := remediate.Run(set, in.controls, remediate.Options{Fixability: fx, MinSeverity: in.minSeverity, Check: in.check, Select: selected})
	// Live findings the checkout does not have: the live value comes from
	// somewhere else (a mutating webhook, an unsynced app, a manual edit).
	seen := map[liveTarget]map[liveWant]bool{}
	mark := func(fd finding.Finding) {
		t := liveTarget{file: filepath.Clean(fd.Position.File), doc: fd.Position.Document}
		if seen[t] == nil {
			seen[t] = map[liveWant]bool{}
		}
		seen[t][liveWant{fd.ControlID, fd.Container}] = true
		seen[t][liveWant{fd.ControlID, ""}] = true
	}
	for _, r := range results {
		for _, a := range r.Applied {
			for _, fd := range a.Findings {
				mark(fd)
			}
		}
		for _, d := range r.Dropped {
			mark(d.Finding)
		}
		for _, fd := range r.Left {
			if selected(fd) {
				mark(fd)
			}
		}
	}
	var liveOnly []string
	for t, ws := range wants {
		for w := range ws {
			if !seen[t][w] {
				liveOnly = append(liveOnly, fmt.Sprintf("live only    %s %s: passes in the checkout's %s; the live value comes from elsewhere (a mutating webhook, an app not synced, a manual change)", w.control, w.container, shown[t]))
			}
		}
	}
	slices.Sort(liveOnly)
	for _, l := range liveOnly {
		fmt.Fprintln(stdout, strings.Replace(l, "  :", ":", 1))
	}
	return f.finish(format, results, nil, code, false, stdout, stderr)
}

// liveFindings are the findings to fix: from a kmend JSON report when one
// is given, else from checking the live objects.
func liveFindings(report string, in *inputs, objects []manifest.Object) ([]finding.Finding, error) {
	if report == "" {
		var out []finding.Finding
		for _, o := range objects {
			for _, r := range check.Run(in.controls, o, in.check) {
				if r.Finding.Suppression == nil {
					out = append(out, r.Finding)
				}
			}
		}
		return out, nil
	}
	data, err := os.ReadFile(report)
	if err != nil {
		return nil, withCode(exitError, fmt.Errorf("--findings: %w", err))
	}
	var doc struct {
		Schema   string            `json:"schema"`
		Findings []finding.Finding `json:"findings"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, withCode(exitError, fmt.Errorf("--findings %s: not a kmend JSON report: %w", report, err))
	}
	if doc.Schema != "kmend.dev/report/v1" {
		return nil, withCode(exitError, fmt.Errorf("--findings %s: schema %q: want kmend.dev/report/v1 (kmend scan or import -o json)", report, doc.Schema))
	}
	var out []finding.Finding
	for _, fd := range doc.Findings {
		if fd.Suppression != nil || fd.ControlID == "" || !known(in.cat, fd.ControlID) {
			continue
		}
		if fd.Object.Kind == "" || fd.Object.Name == "" {
			continue
		}
		out = append(out, fd)
	}
	return out, nil
}

// stubObject stands for a live object known only by its reference (from a
// report): it can be located by a search of the checkout.
func stubObject(ref finding.ObjectRef) *yaml.RNode {
	n := yaml.NewMapRNode(nil)
	_ = n.PipeE(yaml.SetField("apiVersion", yaml.NewStringRNode(ref.APIVersion)))
	_ = n.PipeE(yaml.SetField("kind", yaml.NewStringRNode(ref.Kind)))
	meta := yaml.NewMapRNode(nil)
	_ = meta.PipeE(yaml.SetField("name", yaml.NewStringRNode(ref.Name)))
	if ref.Namespace != "" {
		_ = meta.PipeE(yaml.SetField("namespace", yaml.NewStringRNode(ref.Namespace)))
	}
	_ = n.PipeE(yaml.SetField("metadata", meta))
	return n
}

func known(cat *catalog.Catalog, id string) bool {
	_, ok := cat.Get(id)
	return ok
}
