package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/helm"
	"github.com/kmend/kmend/internal/kustomize"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/overlay"
	"github.com/kmend/kmend/internal/patch"
	"github.com/kmend/kmend/internal/yamledit"
)

// sources are the kustomizations and Helm charts found under fix's
// directory arguments: they are fixed where their values come from
// (package overlay, package helm), and their files are left out of the
// plain, file-by-file pass.
type sources struct {
	overlays []*overlay.Result
	charts   []*helm.Result
	// covered holds the absolute paths of the files they read; chartDirs
	// the charts' directories.
	covered   map[string]bool
	chartDirs []string
	errs      []error
	// notes are releases left alone without it being an error: charts
	// that are not fetched (--offline, a Flux chartRef to a HelmChart, a
	// source that is not in the repository).
	notes []error
	// deferred are plans set aside because a plan before them changes
	// one of their files (oneFixPerFile). Those with a way to plan again
	// are planned again once the files are written (again); the others,
	// and all of them with --dry-run, are reported as not fixed and make
	// the run exit 1.
	deferred []deferredPlan
	// replan plans a chart or release again, against the files as they
	// are then on disk.
	replan map[*helm.Result]func() (*helm.Result, error)
	// changes holds the absolute paths of the files the plans change,
	// those set aside included: a plain fix of one of them is made once
	// they are written (fixFlags.finish).
	changes map[string]bool
}

// deferredPlan is a plan set aside by oneFixPerFile.
type deferredPlan struct {
	why   error
	again func() (*helm.Result, error) // nil: the next run fixes it
}

// sourceFlags are fix's flags for charts from Helm repositories.
type sourceFlags struct {
	offline    bool
	chartCache string
}

func (f *sourceFlags) register(fl *pflag.FlagSet) {
	fl.BoolVar(&f.offline, "offline", false, "fetch no chart: releases whose chart comes from a Helm repository or an OCI registry are reported, not fixed")
	fl.StringVar(&f.chartCache, "chart-cache", "", "keep charts fetched from Helm repositories and OCI registries in `DIR` (default: the user cache directory's kmend/charts)")
}

// charts is the chart cache of releases whose chart comes from a Helm
// repository; nil with --offline (such releases are then
// helm.ErrExternalChart).
func (f sourceFlags) charts() (*helm.ChartCache, error) {
	if f.offline {
		return nil, nil
	}
	dir := f.chartCache
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("chart cache: %w (use --chart-cache or --offline)", err)
		}
		dir = filepath.Join(base, "kmend", "charts")
	}
	return &helm.ChartCache{Dir: dir}, nil
}

// changedFile is a file a source fix changes.
type changedFile struct {
	path          string
	before, after []byte
}

// planSources plans the fixes of every kustomization and chart below the
// directory arguments. A path's repository is the closest directory above
// it with .git (kustomizations may read bases outside the argument), else
// the argument itself.
func planSources(args []string, in *inputs, fx []finding.Fixability, sf sourceFlags) *sources {
	s := &sources{covered: map[string]bool{}, replan: map[*helm.Result]func() (*helm.Result, error){}}
	chartCache, chartsErr := sf.charts()
	// Helm's chartutil reports coalescing through the standard logger.
	log.SetOutput(io.Discard)
	for _, arg := range args {
		st, err := os.Stat(arg)
		if err != nil || !st.IsDir() {
			continue
		}
		dir, err := filepath.Abs(arg)
		if err != nil {
			continue
		}
		repo := repoRoot(dir)
		rel, _ := filepath.Rel(repo, dir)
		if roots, err := kustomize.Roots(dir); err == nil && len(roots) > 0 {
			res, err := overlay.Plan(repo, in.controls, overlay.Options{
				Fixability: fx, MinSeverity: in.minSeverity, Check: in.check, Paths: []string{filepath.ToSlash(rel)},
			})
			if err != nil {
				s.errs = append(s.errs, fmt.Errorf("kustomizations in %s: %w", arg, err))
			} else {
				s.overlays = append(s.overlays, res)
				for _, p := range res.Inputs {
					s.covered[filepath.Join(repo, filepath.FromSlash(p))] = true
				}
				for _, r := range res.Roots {
					s.covered[filepath.Join(repo, filepath.FromSlash(r.File))] = true
				}
				// Every kustomization of the repository is rendered (a
				// fix must not change the others), but only those below
				// the argument are the user's concern.
				for _, e := range res.Errors {
					var re *overlay.RootError
					if errors.As(e, &re) && !within(filepath.ToSlash(rel), re.Root) {
						continue
					}
					s.errs = append(s.errs, e)
				}
			}
		}
		charts, err := helm.Charts(dir)
		if err != nil {
			s.errs = append(s.errs, fmt.Errorf("charts in %s: %w", arg, err))
			continue
		}
		// A chart deployed by a Flux HelmRelease or an Argo CD Application
		// of the repository is fixed through that release's values (its
		// inline values first); the others on their own values.yaml.
		// A release whose chart comes from a Helm repository or an OCI
		// registry is fixed in its values with the chart fetched (and
		// cached); with --offline it is reported and left alone. A chart
		// that cannot be fetched is an error of that release only.
		released := map[string]bool{}
		rels, rereads, external := releases(in.set, repo, dir)
		s.notes = append(s.notes, external...)
		planRelease := func(r *helm.Release) (*helm.Result, error) {
			return helm.PlanRelease(r, in.controls, helm.Options{
				Renderer: helm.Renderer{Repo: repo}, Fixability: fx, MinSeverity: in.minSeverity, Check: in.check, Charts: chartCache,
			})
		}
		for i, r := range rels {
			if r.Remote != nil && chartsErr != nil {
				s.errs = append(s.errs, fmt.Errorf("%s: %w", r.Defined, chartsErr))
				continue
			}
			res, err := planRelease(r)
			if r.Remote != nil && errors.Is(err, helm.ErrExternalChart) {
				s.notes = append(s.notes, fmt.Errorf("%s: %w", r.Defined, err))
				continue
			}
			if err != nil {
				s.errs = append(s.errs, fmt.Errorf("%s: %w", r.Defined, err))
				continue
			}
			if r.Remote == nil {
				released[filepath.Join(repo, filepath.FromSlash(r.Chart))] = true
			}
			s.charts = append(s.charts, res)
			reread := rereads[i]
			s.replan[res] = func() (*helm.Result, error) {
				r, err := reread()
				if err != nil {
					return nil, err
				}
				res, err := planRelease(r)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", r.Defined, err)
				}
				return res, nil
			}
		}
		for _, c := range charts {
			chart := filepath.Join(dir, filepath.FromSlash(c))
			s.chartDirs = append(s.chartDirs, chart)
			if released[chart] {
				continue
			}
			plan := func() (*helm.Result, error) {
				res, err := helm.Plan(chart, nil, in.controls, helm.Options{
					Renderer: helm.Renderer{Repo: repo}, Fixability: fx, MinSeverity: in.minSeverity, Check: in.check,
				})
				if err != nil {
					return nil, fmt.Errorf("chart %s: %w", chart, err)
				}
				return res, nil
			}
			res, err := plan()
			if err != nil {
				s.errs = append(s.errs, err)
				continue
			}
			s.charts = append(s.charts, res)
			s.replan[res] = plan
		}
	}
	s.oneFixPerFile()
	return s
}

// oneFixPerFile keeps, of the planned fixes that change the same file, the
// first only. Each kustomization set and each release is planned against
// the files as they are on disk, so a second plan's new content of a file
// that a first plan changes too (two HelmReleases in one file, two
// releases sharing a values file) would be written over the first's, and
// one of the fixes lost although both were reported. The later plans are
// set aside (deferred): kmend fix plans them again once the first are
// written (again), and with --dry-run reports them as not fixed.
func (s *sources) oneFixPerFile() {
	owner := map[string]string{} // absolute path → the plan that changes it
	if s.changes == nil {
		s.changes = map[string]bool{}
	}
	claim := func(what, repo string, paths []string, again func() (*helm.Result, error)) bool {
		for _, p := range paths {
			s.changes[filepath.Join(repo, filepath.FromSlash(p))] = true
		}
		for _, p := range paths {
			if first, ok := owner[filepath.Join(repo, filepath.FromSlash(p))]; ok {
				why := fmt.Errorf("%s: %s is also changed by the fix of %s: run kmend fix again once that fix is written", what, p, first)
				s.deferred = append(s.deferred, deferredPlan{why, again})
				return false
			}
		}
		for _, p := range paths {
			owner[filepath.Join(repo, filepath.FromSlash(p))] = what
		}
		return true
	}
	s.overlays = slices.DeleteFunc(s.overlays, func(r *overlay.Result) bool {
		var paths []string
		for _, f := range r.Files {
			paths = append(paths, f.Path)
		}
		return !claim("the kustomizations of "+display(r.Repo), r.Repo, paths, nil)
	})
	s.charts = slices.DeleteFunc(s.charts, func(r *helm.Result) bool {
		var paths []string
		for _, f := range r.Files {
			if f.Changed() {
				paths = append(paths, f.Path)
			}
		}
		what := "chart " + r.Chart
		if r.Release != "" {
			what = fmt.Sprintf("release %s/%s (chart %s)", r.Namespace, r.Release, r.Chart)
		}
		return !claim(what, r.Repo, paths, s.replan[r])
	})
}

// alsoChanges reports whether a plan changes the file at path.
func (s *sources) alsoChanges(path string) bool {
	abs, err := filepath.Abs(path)
	return err == nil && s.changes[abs]
}

// reportDeferred reports the deferred plans that report left to be
// planned again, when they will not be.
func (s *sources) reportDeferred(stderr io.Writer) {
	for _, d := range s.deferred {
		if d.again != nil {
			fmt.Fprintf(stderr, "kmend: not fixed: %v\n", d.why)
		}
	}
}

// again plans once more, against the files as written now, the plans
// set aside that can be planned again; nil when there are none.
func (s *sources) again() *sources {
	next := &sources{covered: s.covered, replan: map[*helm.Result]func() (*helm.Result, error){}, changes: s.changes}
	for _, d := range s.deferred {
		if d.again == nil {
			continue
		}
		res, err := d.again()
		if err != nil {
			next.errs = append(next.errs, err)
			continue
		}
		next.charts = append(next.charts, res)
		next.replan[res] = d.again
	}
	if len(next.charts) == 0 && len(next.errs) == 0 {
		return nil
	}
	next.oneFixPerFile()
	return next
}

// releases are the Flux HelmReleases and Argo CD Applications below dir
// whose chart is in the repository, in an HTTP(S) Helm repository or in an
// OCI registry (their values are in the repository); external lists those
// whose chart is not fetched (a Flux chartRef to a HelmChart, a
// HelmRepository or OCIRepository that is not in the repository). The others (sources elsewhere) are not this checkout's to
// fix.
func releases(set *manifest.Set, repo, dir string) (out []*helm.Release, reread []func() (*helm.Release, error), external []error) {
	for _, o := range set.Objects {
		group, _, _ := strings.Cut(o.Ref.APIVersion, "/")
		var read func(repo, file string, doc int) (*helm.Release, error)
		switch {
		case group == "helm.toolkit.fluxcd.io" && o.Ref.Kind == "HelmRelease":
			read = helm.HelmRelease
		case group == "argoproj.io" && o.Ref.Kind == "Application":
			read = helm.Application
		default:
			continue
		}
		abs, err := filepath.Abs(o.Pos.File)
		if err != nil || !strings.HasPrefix(abs, dir+string(filepath.Separator)) {
			continue
		}
		rel, err := filepath.Rel(repo, abs)
		if err != nil {
			continue
		}
		file, doc := filepath.ToSlash(rel), o.Pos.Document
		r, err := read(repo, file, doc)
		if errors.Is(err, helm.ErrExternalChart) || errors.Is(err, helm.ErrPatchOnly) {
			external = append(external, err)
			continue
		}
		if err != nil {
			continue // not a Helm source of this repository
		}
		out = append(out, r)
		reread = append(reread, func() (*helm.Release, error) { return read(repo, file, doc) })
	}
	return out, reread, external
}

// display is a path as the user would write it: relative to the working
// directory when it is below it.
func display(p string) string {
	if wd, err := os.Getwd(); err == nil {
		if r, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
	}
	return p
}

// within reports whether the repository-relative path p is dir or below
// it ("." is the whole repository).
func within(dir, p string) bool {
	return dir == "." || p == dir || strings.HasPrefix(p, dir+"/")
}

// repoRoot is the closest directory at or above dir that holds .git, else
// dir.
func repoRoot(dir string) string {
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		up := filepath.Dir(d)
		if up == d {
			return dir
		}
		d = up
	}
}

// handles reports whether a file is fixed through a kustomization or a
// chart rather than on its own.
func (s *sources) handles(file string) bool {
	abs, err := filepath.Abs(file)
	if err != nil {
		return false
	}
	if s.covered[abs] {
		return true
	}
	for _, d := range s.chartDirs {
		if strings.HasPrefix(abs, d+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// without returns the set minus the files the sources handle.
func (s *sources) without(set *manifest.Set) *manifest.Set {
	if len(s.covered) == 0 && len(s.chartDirs) == 0 {
		return set
	}
	out := &manifest.Set{Skipped: set.Skipped}
	for _, f := range set.Files {
		if !s.handles(f.Path) {
			out.Files = append(out.Files, f)
		}
	}
	for _, o := range set.Objects {
		if !s.handles(o.Pos.File) {
			out.Objects = append(out.Objects, o)
		}
	}
	for _, e := range set.Errors {
		file, _, _ := strings.Cut(e.Error(), ": ")
		var pe *yamledit.ParseError
		if errors.As(e, &pe) {
			file = pe.Path
		}
		if !s.handles(file) {
			out.Errors = append(out.Errors, e)
		}
	}
	return out
}

// report prints what the source fixes do (one line per fix) and returns
// the number of findings fixed, the patches and the changed files. With
// retry, the deferred plans that will be planned again are not reported.
func (s *sources) report(w, stderr io.Writer, retry bool) (fixes int, patches []*patch.Fix, files []changedFile, dropped bool) {
	for _, r := range s.overlays {
		for _, f := range r.Fixes {
			for _, fd := range f.Findings {
				fmt.Fprintf(w, "fixed  %-7s %s:%d  %s", fd.ControlID, display(filepath.Join(r.Repo, f.File)), f.Line, fd.Object)
				if fd.Container != "" {
					fmt.Fprintf(w, " container %s", fd.Container)
				}
				fmt.Fprintf(w, "  (%s; %s in %s)\n", fd.Reason, f.Placement, fd.Root)
				fixes++
			}
			if f.Patch != nil {
				patches = append(patches, f.Patch)
			}
		}
		for _, d := range r.Dropped {
			dropped = true
			for _, fd := range d.Findings {
				fmt.Fprintf(stderr, "kmend: not fixed: %s %s in %s: %s\n", fd.ControlID, fd.Object, fd.Root, d.Reason)
			}
		}
		for _, c := range r.Files {
			files = append(files, changedFile{path: display(filepath.Join(r.Repo, c.Path)), before: c.Before, after: c.After})
		}
	}
	for _, err := range s.notes {
		fmt.Fprintf(stderr, "kmend: not fixed: %v\n", err)
	}
	for _, d := range s.deferred {
		if retry && d.again != nil {
			continue // planned again once this round is written
		}
		dropped = true
		fmt.Fprintf(stderr, "kmend: not fixed: %v\n", d.why)
	}
	for _, r := range s.charts {
		for _, f := range r.Fixes {
			for _, fd := range f.Findings {
				fmt.Fprintf(w, "fixed  %-7s %s:%d  %s", fd.ControlID, display(filepath.Join(r.Repo, f.File())), f.Line, fd.Object)
				if fd.Container != "" {
					fmt.Fprintf(w, " container %s", fd.Container)
				}
				fmt.Fprintf(w, "  (%s; values key %s: %s)\n", fd.Reason, f.KeyString(), f.Value)
				fixes++
			}
			if f.Patch != nil {
				patches = append(patches, f.Patch)
			}
		}
		for _, m := range r.Manual {
			chart := r.Chart
			if r.Remote != nil {
				chart = r.Remote.String()
			}
			fmt.Fprintf(w, "manual %-7s %s  %s  (chart %s: %s)\n", m.Finding.ControlID, m.Finding.Position.File, m.Finding.Object, chart, m.Reason)
		}
		for _, c := range r.Files {
			files = append(files, changedFile{path: display(filepath.Join(r.Repo, c.Path)), before: c.Before, after: c.After})
		}
	}
	slices.SortFunc(files, func(a, b changedFile) int { return strings.Compare(a.path, b.path) })
	return fixes, patches, files, dropped
}

// write writes the source fixes' files; it returns the paths of those
// that changed.
func (s *sources) write() ([]string, error) {
	var paths []string
	for _, r := range s.overlays {
		written, err := r.Write()
		for _, p := range written {
			paths = append(paths, filepath.Join(r.Repo, filepath.FromSlash(p)))
		}
		if err != nil {
			return paths, err
		}
	}
	for _, r := range s.charts {
		written, err := r.Write()
		for _, p := range written {
			paths = append(paths, filepath.Join(r.Repo, filepath.FromSlash(p)))
		}
		if err != nil {
			return paths, err
		}
	}
	return paths, nil
}
