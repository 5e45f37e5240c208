// Command benchmapping measures the source mapping in-process, phase by
// phase, for hack/bench/mapping.sh and for profiling. The end-to-end
// figures come from `kmend locate` under hack/benchrun; this says where
// the time goes.
//
//	benchmapping phases -repo DIR [-repo-url URL] [-general] [-workers N] [-cpuprofile F] [-memprofile F] LIVE...
//
// does what `kmend locate LIVE... --repo DIR --repo-url URL` does: load the
// snapshot (manifest.Load with DropControlled, each object checked with
// the built-in catalog as it is read and only its head kept), keep the
// objects no other object controls, build a sourcemap.Mapper with the
// snapshot's Argo CD and Flux objects, and locate every object with
// findings. It prints one line per phase, "phase seconds live-MiB
// allocated-MiB" (the Go heap live after the phase, measured after a
// collection that is not timed, and the bytes the phase allocated), then
// "total seconds peak-RSS-MiB objects located". The first Locate call
// indexes the checkout: it is its own phase. -general takes the path
// every other command takes instead: every file parsed whole and kept,
// then the objects checked (a phase of its own).
//
//	benchmapping cache -repo DIR [-app APP]
//
// measures internal/overlay's render cache on a repository of
// kustomizations (hack/gen-gitops's layout), planning the fixes of one
// overlay (Options.Paths) with one Cache throughout: cold (every
// kustomization rendered, the overlay's fixes verified), the same plan
// again, after the fixes are written (Result.Write), after another
// overlay's patch file changed, and after a third app's base file
// changed. It prints "step seconds builds fixes files" per step (builds:
// renderings built in that step, from Cache.Stats; a plan renders the
// repository as it is, then each fix laid over it), then
// "kustomizations N". The repository is copied to a temporary directory
// first: DIR is never written.
package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/kustomize"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/overlay"
	"github.com/kmend/kmend/internal/sourcemap"
	"github.com/kmend/kmend/internal/yamledit"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "phases":
		err = phases(os.Args[2:])
	case "cache":
		err = cache(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchmapping:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage:
  benchmapping phases -repo DIR [-repo-url URL] [-drop-controlled] [-workers N] [-cpuprofile F] [-memprofile F] LIVE...
  benchmapping cache -repo DIR [-app APP]`)
	os.Exit(2)
}

func peakRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	kib := float64(ru.Maxrss)
	if runtime.GOOS == "darwin" {
		kib /= 1024
	}
	return kib / 1024
}

func phases(args []string) error {
	fl := flag.NewFlagSet("phases", flag.ExitOnError)
	repo := fl.String("repo", "", "the checkout")
	repoURL := fl.String("repo-url", "", "its URL")
	cpu := fl.String("cpuprofile", "", "write a CPU profile")
	mem := fl.String("memprofile", "", "write a heap profile at the end")
	general := fl.Bool("general", false, "load every file whole, then check (the path of scan and fix)")
	workers := fl.Int("workers", runtime.GOMAXPROCS(0), "check and locate on this many goroutines (kmend locate uses GOMAXPROCS)")
	fl.Parse(args)
	if *repo == "" || fl.NArg() == 0 {
		usage()
	}
	if *cpu != "" {
		f, err := os.Create(*cpu)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var total time.Duration
	last := time.Now()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	allocated := ms.TotalAlloc
	// phase ends a phase: its time, then (untimed) the live heap after a
	// collection and what the phase allocated.
	phase := func(name string) {
		d := time.Since(last)
		total += d
		runtime.GC()
		runtime.ReadMemStats(&ms)
		fmt.Printf("%s %.3f %.0f %.0f\n", name, d.Seconds(), float64(ms.HeapAlloc)/(1<<20), float64(ms.TotalAlloc-allocated)/(1<<20))
		allocated = ms.TotalAlloc
		last = time.Now()
	}
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		return err
	}
	cat.Warm()
	controls := cat.All()
	phase("catalog")

	findingsOf := func(o manifest.Object) (fs []finding.Finding) {
		for _, r := range check.Run(controls, o, check.Options{}) {
			if r.Finding.Suppression == nil {
				fs = append(fs, r.Finding)
			}
		}
		return fs
	}
	opts := manifest.Options{Limits: yamledit.Options{MaxBytes: manifest.DefaultMaxBytes}}
	var mu sync.Mutex
	found := map[*yaml.RNode]bool{}
	if !*general { // as kmend locate reads
		opts.DropControlled = true
		opts.Kinds = func(apiVersion, kind string) bool {
			return check.AppliesToKind(controls, kind) || sourcemap.IsGitOps(apiVersion, kind)
		}
		opts.Visit = func(o *manifest.Object) {
			fs := findingsOf(*o)
			if !sourcemap.IsGitOps(o.Ref.APIVersion, o.Ref.Kind) {
				o.Node = manifest.Head(o.Node)
			}
			if len(fs) > 0 {
				mu.Lock()
				found[o.Node] = true
				mu.Unlock()
			}
		}
	}
	set := manifest.Load(fl.Args(), opts)
	if len(set.Errors) > 0 {
		return fmt.Errorf("loading: %v", set.Errors[0])
	}
	phase("load")

	top := manifest.WithoutControlled(set.Objects)
	phase("owners")

	if *general {
		each(*workers, len(top), func(i int) {
			if len(findingsOf(top[i])) > 0 {
				mu.Lock()
				found[top[i].Node] = true
				mu.Unlock()
			}
		})
		phase("check")
	}
	var jobs []manifest.Object
	for _, o := range top {
		if found[o.Node] {
			jobs = append(jobs, o)
		}
	}

	ctx := sourcemap.Context{Repos: map[string]string{"": *repo}}
	if *repoURL != "" {
		ctx.Repos[*repoURL] = *repo
	}
	for _, o := range set.Objects {
		ctx.AddGitOps(o.Node)
	}
	m, err := sourcemap.NewMapper(ctx)
	if err != nil {
		return err
	}
	phase("mapper")

	var located atomic.Int64
	if len(jobs) > 0 {
		if r := m.Locate(jobs[0].Node); r.Location != nil {
			located.Add(1)
		}
		phase("index")
		each(*workers, len(jobs)-1, func(i int) {
			if r := m.Locate(jobs[i+1].Node); r.Location != nil {
				located.Add(1)
			}
		})
	}
	phase("locate")
	if *mem != "" {
		f, err := os.Create(*mem)
		if err != nil {
			return err
		}
		defer f.Close()
		runtime.GC()
		if err := pprof.WriteHeapProfile(f); err != nil {
			return err
		}
	}
	fmt.Printf("total %.3f %.0f %d %d\n", total.Seconds(), peakRSSMiB(), len(set.Objects), located.Load())
	runtime.KeepAlive(set)
	return nil
}

// each calls fn(i) for i in [0, n) on w goroutines.
func each(w, n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, w) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				fn(i)
			}
		})
	}
	wg.Wait()
}

func cache(args []string) error {
	fl := flag.NewFlagSet("cache", flag.ExitOnError)
	src := fl.String("repo", "", "a repository of kustomizations (hack/gen-gitops's repo/)")
	app := fl.String("app", "", "the app whose overlay is fixed (default: the first under apps/; the next two have a patch and a base file changed)")
	fl.Parse(args)
	if *src == "" || fl.NArg() != 0 {
		usage()
	}
	tmp, err := os.MkdirTemp("", "kmend-benchmapping-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	repo := filepath.Join(tmp, "repo")
	if err := copyTree(*src, repo); err != nil {
		return err
	}
	entries, err := os.ReadDir(filepath.Join(repo, "apps"))
	if err != nil || len(entries) < 3 {
		return fmt.Errorf("%s: want an apps/ directory of at least three apps", *src)
	}
	apps := []string{entries[0].Name(), entries[1].Name(), entries[2].Name()}
	if *app != "" {
		apps[0] = *app
	}
	roots, err := kustomize.Roots(repo)
	if err != nil {
		return err
	}
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		return err
	}
	controls := cat.All()
	fixed := "apps/" + apps[0] + "/overlays/prod"
	c := overlay.NewCache()
	builds := 0
	var last *overlay.Result
	step := func(name string, edit func() error) error {
		if edit != nil {
			if err := edit(); err != nil {
				return err
			}
		}
		start := time.Now()
		res, err := overlay.Plan(repo, controls, overlay.Options{Cache: c, Paths: []string{fixed}})
		if err != nil {
			return err
		}
		if len(res.Errors) > 0 {
			return fmt.Errorf("%s: %v", name, res.Errors[0])
		}
		_, b := c.Stats()
		fmt.Printf("%s %.3f %d %d %d\n", name, time.Since(start).Seconds(), b-builds, len(res.Fixes), len(res.Files))
		builds, last = b, res
		return nil
	}
	replace := func(rel, old, new string) func() error {
		return func() error {
			p := filepath.Join(repo, filepath.FromSlash(rel))
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s := string(b)
			if !strings.Contains(s, old) {
				return fmt.Errorf("%s: no %q to replace", rel, old)
			}
			return os.WriteFile(p, []byte(strings.Replace(s, old, new, 1)), 0o644)
		}
	}
	base := "apps/" + apps[2] + "/base"
	baseEntries, err := os.ReadDir(filepath.Join(repo, filepath.FromSlash(base)))
	if err != nil {
		return err
	}
	var baseFile string
	for _, e := range baseEntries {
		if strings.HasSuffix(e.Name(), "-deployment.yaml") {
			baseFile = base + "/" + e.Name()
			break
		}
	}
	if baseFile == "" {
		return fmt.Errorf("%s: no *-deployment.yaml", base)
	}
	for _, s := range []struct {
		name string
		edit func() error
	}{
		// every kustomization rendered, the fixes of one overlay planned
		// and verified
		{"cold", nil},
		// the same plan again
		{"unchanged", nil},
		// the fixes written, as kmend fix does: the next plan renders
		// what reads the files they changed
		{"fixes-written", func() error {
			if len(last.Files) == 0 {
				return fmt.Errorf("%s: no fix to write", fixed)
			}
			_, err := last.Write()
			return err
		}},
		// one overlay's patch edited by hand
		{"patch-changed", replace("apps/"+apps[1]+"/overlays/dev/replicas.yaml", "replicas: 1", "replicas: 2")},
		// one base file edited: the base and its four overlays
		{"base-changed", replace(baseFile, "containerPort: 8080", "containerPort: 8081")},
	} {
		if err := step(s.name, s.edit); err != nil {
			return err
		}
	}
	fmt.Printf("kustomizations %d\n", len(roots))
	return nil
}

func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
}
