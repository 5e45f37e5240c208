package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/cluster"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/output"
	"github.com/kmend/kmend/internal/parallel"
	"github.com/kmend/kmend/internal/yamledit"
)

// selection are the flags that choose controls.
type selection struct {
	controls    []string
	minSeverity string
	params      []string
}

func (s *selection) controlsOf(cat *catalog.Catalog) ([]*catalog.Control, finding.Severity, error) {
	cs, err := cat.Select(s.controls)
	if err != nil {
		return nil, 0, withCode(exitError, err)
	}
	min := finding.SeverityInfo
	if s.minSeverity != "" {
		if min, err = finding.ParseSeverity(s.minSeverity); err != nil {
			return nil, 0, withCode(exitError, fmt.Errorf("--min-severity: %w", err))
		}
	}
	var out []*catalog.Control
	for _, c := range cs {
		if c.Severity >= min {
			out = append(out, c)
		}
	}
	return out, min, nil
}

// checkOptions parses --set KM-004.uid=20000.
func (s *selection) checkOptions(cat *catalog.Catalog) (check.Options, error) {
	opts := check.Options{Params: map[string]map[string]string{}}
	for _, p := range s.params {
		k, v, ok := strings.Cut(p, "=")
		id, name, ok2 := strings.Cut(k, ".")
		if !ok || !ok2 {
			return opts, withCode(exitError, fmt.Errorf("--set %q: want CONTROL.PARAM=VALUE, e.g. KM-004.uid=20000", p))
		}
		c, found := cat.Get(id)
		if !found {
			return opts, withCode(exitError, fmt.Errorf("--set %q: unknown control %s", p, id))
		}
		if opts.Params[c.ID] == nil {
			opts.Params[c.ID] = map[string]string{}
		}
		opts.Params[c.ID][name] = v
		if _, err := c.Defaults(opts.Params[c.ID]); err != nil {
			return opts, withCode(exitError, fmt.Errorf("--set %q: %w", p, err))
		}
	}
	return opts, nil
}

// clusterFlags choose a live cluster as the input, as kubectl users expect.
type clusterFlags struct {
	live       bool
	kubeconfig string
	context    string
	namespace  string
}

func (c *clusterFlags) register(fl *pflag.FlagSet) {
	fl.BoolVar(&c.live, "cluster", false, "read workloads from the cluster (kubeconfig, or in-cluster config) instead of files")
	fl.StringVar(&c.kubeconfig, "kubeconfig", "", "with --cluster: the kubeconfig `FILE` (default $KUBECONFIG or ~/.kube/config)")
	fl.StringVar(&c.context, "context", "", "with --cluster: the kubeconfig `CONTEXT` to use")
	fl.StringVarP(&c.namespace, "namespace", "n", "", "with --cluster: read only this `NAMESPACE` (default: all)")
}

// snapshot reads the cluster once into a set of objects.
func (c *clusterFlags) snapshot(ctx context.Context) (*manifest.Set, error) {
	cfg, err := cluster.Config(cluster.ConfigOptions{Kubeconfig: c.kubeconfig, Context: c.context})
	if err != nil {
		return nil, withCode(exitError, err)
	}
	name := c.context
	if name == "" {
		name = cfg.Host
	}
	objs, err := cluster.Snapshot(ctx, cfg, cluster.SnapshotOptions{Namespace: c.namespace, Cluster: name})
	if err != nil {
		return nil, withCode(exitError, err)
	}
	return &manifest.Set{Objects: objs}, nil
}

// inputs is what scan, fix and score start from: the selected controls,
// their options, and the objects read.
type inputs struct {
	cat         *catalog.Catalog
	controls    []*catalog.Control
	minSeverity finding.Severity
	check       check.Options
	set         *manifest.Set
}

// prepare loads the catalog, selects controls, parses --set and reads the
// inputs.
func (g *globals) prepare(sel *selection, args []string, stdin io.Reader) (*inputs, error) {
	return g.prepareFrom(sel, nil, args, stdin)
}

// prepareFrom is prepare with an optional live cluster as the input.
func (g *globals) prepareFrom(sel *selection, live *clusterFlags, args []string, stdin io.Reader) (*inputs, error) {
	in := &inputs{}
	// The catalog loads while the inputs are read: neither needs the other.
	var catErr error
	loaded := make(chan struct{})
	go func() {
		defer close(loaded)
		if in.cat, catErr = g.catalog(); catErr == nil {
			in.cat.Warm()
		}
	}()
	var set *manifest.Set
	var err error
	if live != nil && live.live {
		if len(args) > 0 {
			err = withCode(exitError, fmt.Errorf("--cluster reads the cluster: give no PATH (%s)", strings.Join(args, " ")))
		} else {
			set, err = live.snapshot(context.Background())
		}
	} else {
		set, err = g.load(args, stdin)
	}
	<-loaded
	if catErr != nil {
		return nil, catErr
	}
	if err != nil {
		return nil, err
	}
	in.set = set
	return in, in.selectControls(sel)
}

// prepareCatalog is prepare without inputs: the catalog and the selection.
func (g *globals) prepareCatalog(sel *selection) (*inputs, error) {
	cat, err := g.catalog()
	if err != nil {
		return nil, err
	}
	in := &inputs{cat: cat, set: &manifest.Set{}}
	return in, in.selectControls(sel)
}

func (in *inputs) selectControls(sel *selection) error {
	var err error
	if in.controls, in.minSeverity, err = sel.controlsOf(in.cat); err != nil {
		return err
	}
	in.check, err = sel.checkOptions(in.cat)
	return err
}

func (g *globals) catalog() (*catalog.Catalog, error) {
	cat, err := catalog.Load(g.catalogDirs...)
	if err != nil {
		return nil, withCode(exitError, fmt.Errorf("catalog: %w", err))
	}
	return cat, nil
}

func (g *globals) load(paths []string, stdin io.Reader) (*manifest.Set, error) {
	if len(paths) == 0 {
		return nil, withCode(exitError, errors.New("no input: give files, directories, or - for standard input"))
	}
	p := g.progress("reading")
	set := manifest.Load(paths, manifest.Options{
		Limits:         yamledit.Options{MaxBytes: g.maxFileSize},
		Stdin:          stdin,
		Progress:       p,
		DropControlled: g.readOnly,
		Visit:          g.visit,
		Kinds:          g.kinds,
	})
	p(0, 0)
	return set, nil
}

// progress returns a callback that shows "verb n/total files" on stderr
// when it is a terminal; call it with (0, 0) to clear the line.
func (g *globals) progress(verb string) func(done, total int) {
	if g.quiet || !term.IsTerminal(int(os.Stderr.Fd())) {
		return func(int, int) {}
	}
	shown := false
	return func(done, total int) {
		if total == 0 {
			if shown {
				fmt.Fprint(os.Stderr, "\r\033[K")
			}
			return
		}
		if total < 200 || (done%100 != 0 && done != total) {
			return
		}
		shown = true
		fmt.Fprintf(os.Stderr, "\r\033[K%s %d/%d files", verb, done, total)
	}
}

func (g *globals) color(w io.Writer) bool {
	if g.noColor || os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// inputErrors turns load errors into report entries with file and line.
func inputErrors(set *manifest.Set) []output.InputError {
	var out []output.InputError
	for _, err := range set.Errors {
		var pe *yamledit.ParseError
		if errors.As(err, &pe) {
			out = append(out, output.InputError{File: pe.Path, Line: pe.Line, Message: pe.Msg})
			continue
		}
		file, msg, _ := strings.Cut(err.Error(), ": ")
		out = append(out, output.InputError{File: file, Message: msg})
	}
	return out
}

func rules(cs []*catalog.Control) []output.Rule {
	out := make([]output.Rule, 0, len(cs))
	for _, c := range cs {
		fix := ""
		if c.Fix.StrategicMerge != "" {
			params, _ := c.Defaults(nil)
			fix, _ = catalog.Render(c.ID, c.Fix.StrategicMerge, catalog.TemplateData{Params: params, Container: "<container>"})
		}
		out = append(out, output.Rule{ID: c.ID, Name: c.Name, Title: c.Title, Severity: c.Severity,
			Rationale: c.Rationale, References: c.References, Fixability: c.Fix.Fixability, PSS: c.PSS,
			Category: c.Category, Fix: fix, Caveats: c.Caveats})
	}
	return out
}

// runChecks evaluates controls on every object of the set.
func runChecks(set *manifest.Set, controls []*catalog.Control, opts check.Options) []check.Result {
	// Results are large: gather them per object and copy them once into a
	// slice of the right size, rather than growing one slice many times.
	// Checks are pure: objects are checked in parallel.
	per := make([][]check.Result, len(set.Objects))
	parallel.Each(len(set.Objects), func(i int) { per[i] = check.Run(controls, set.Objects[i], opts) }, nil)
	n := 0
	for _, rs := range per {
		n += len(rs)
	}
	out := make([]check.Result, 0, n)
	for _, rs := range per {
		out = append(out, rs...)
	}
	return out
}

// emit writes a report in a format (table, json or sarif; "" writes
// nothing) and turns it into scan's exit code: 2 when an input could not be
// read, 1 when a finding is at or above failOn, else 0.
func (g *globals) emit(w io.Writer, rep *output.Report, format string, verbose bool, failOn finding.Severity) error {
	var err error
	switch format {
	case "":
	case "json":
		err = output.WriteJSON(w, rep)
	case "sarif":
		err = output.WriteSARIF(w, rep)
	default:
		err = output.WriteTable(w, rep, output.TableOptions{Color: g.color(w), Width: termWidth(), Verbose: verbose})
	}
	if err != nil {
		return withCode(exitError, err)
	}
	if len(rep.Errors) > 0 {
		return withCode(exitError, nil)
	}
	for i := range rep.Findings {
		if rep.Findings[i].Severity >= failOn {
			return withCode(exitFindings, nil)
		}
	}
	return nil
}
