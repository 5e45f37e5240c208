package sourcemap

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Benchmark shape: 100 app directories × 100 files × 5 documents = 10,000
// files and 50,000 objects. Apps 0–39 are Argo CD Applications (files
// without namespaces, set by the destination), 40–69 Flux Kustomizations,
// 70–99 found by search.
const (
	benchApps     = 100
	benchFiles    = 100
	benchDocs     = 5
	benchArgoApps = 40
	benchFluxApps = 30
)

var benchKinds = [benchDocs]struct{ apiVersion, kind string }{
	{"apps/v1", "Deployment"}, {"v1", "Service"}, {"v1", "ConfigMap"}, {"v1", "ServiceAccount"}, {"policy/v1", "PodDisruptionBudget"},
}

type benchRoute int

const (
	routeArgo benchRoute = iota
	routeFlux
	routeSearch
)

func benchRouteOf(app int) benchRoute {
	switch {
	case app < benchArgoApps:
		return routeArgo
	case app < benchArgoApps+benchFluxApps:
		return routeFlux
	}
	return routeSearch
}

// genCheckout writes the 10,000-file checkout.
func genCheckout(tb testing.TB, dir string) {
	tb.Helper()
	var b strings.Builder
	for a := range benchApps {
		ad := filepath.Join(dir, "apps", fmt.Sprintf("app-%03d", a))
		if err := os.MkdirAll(ad, 0o755); err != nil {
			tb.Fatal(err)
		}
		for f := range benchFiles {
			b.Reset()
			fmt.Fprintf(&b, "# app %d, file %d\n", a, f)
			for d, k := range benchKinds {
				if d > 0 {
					b.WriteString("---\n")
				}
				fmt.Fprintf(&b, "apiVersion: %s\nkind: %s\nmetadata:\n  name: w-%03d-%03d\n", k.apiVersion, k.kind, a, f)
				if benchRouteOf(a) != routeArgo {
					fmt.Fprintf(&b, "  namespace: ns-%03d\n", a)
				}
				fmt.Fprintf(&b, "  labels:\n    app: w-%03d-%03d\n", a, f)
				switch k.kind {
				case "Deployment":
					fmt.Fprintf(&b, "spec:\n  selector:\n    matchLabels:\n      app: w\n  template:\n    metadata:\n      labels:\n        app: w\n    spec:\n      containers:\n        - name: app\n          image: registry.example.com/app:%d\n", f)
				case "Service":
					b.WriteString("spec:\n  ports:\n    - port: 80\n")
				case "ConfigMap":
					b.WriteString("data:\n  key: value\n")
				case "PodDisruptionBudget":
					b.WriteString("spec:\n  minAvailable: 1\n")
				}
			}
			if err := os.WriteFile(filepath.Join(ad, fmt.Sprintf("res-%03d.yaml", f)), []byte(b.String()), 0o644); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// benchContext builds the Applications, Flux objects and live objects.
func benchContext(tb testing.TB, dir string) (Context, []*yaml.RNode, []string) {
	tb.Helper()
	const repo = "https://github.com/kmend-fixtures/bench"
	ctx := Context{Repos: map[string]string{"": dir, repo + ".git": dir}}
	git := fmt.Sprintf("apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: bench\n  namespace: flux-system\nspec:\n  url: git@github.com:kmend-fixtures/bench.git\n  ref:\n    branch: main\n")
	ctx.GitRepositories = append(ctx.GitRepositories, live(tb, git))
	for a := range benchApps {
		switch benchRouteOf(a) {
		case routeArgo:
			ctx.Applications = append(ctx.Applications, live(tb, fmt.Sprintf(
				"apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: app-%03d\n  namespace: argocd\nspec:\n  source:\n    repoURL: %s\n    targetRevision: main\n    path: apps/app-%03d\n  destination:\n    namespace: ns-%03d\n",
				a, repo, a, a)))
		case routeFlux:
			ctx.Kustomizations = append(ctx.Kustomizations, live(tb, fmt.Sprintf(
				"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app-%03d\n  namespace: flux-system\nspec:\n  path: ./apps/app-%03d\n  sourceRef:\n    kind: GitRepository\n    name: bench\n",
				a, a)))
		}
	}
	var objs []*yaml.RNode
	var files []string
	var b strings.Builder
	for a := range benchApps {
		for f := range benchFiles {
			for _, k := range benchKinds {
				b.Reset()
				name, ns := fmt.Sprintf("w-%03d-%03d", a, f), fmt.Sprintf("ns-%03d", a)
				fmt.Fprintf(&b, "apiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n  namespace: %s\n  uid: 00000000-0000-4000-8000-%012d\n  resourceVersion: \"%d\"\n",
					k.apiVersion, k.kind, name, ns, a*1000+f, a*1000+f)
				group := groupOf(k.apiVersion)
				switch benchRouteOf(a) {
				case routeArgo:
					fmt.Fprintf(&b, "  annotations:\n    argocd.argoproj.io/tracking-id: app-%03d:%s/%s:%s/%s\n", a, group, k.kind, ns, name)
					fmt.Fprintf(&b, "  labels:\n    app.kubernetes.io/instance: app-%03d\n", a)
				case routeFlux:
					fmt.Fprintf(&b, "  labels:\n    kustomize.toolkit.fluxcd.io/name: app-%03d\n    kustomize.toolkit.fluxcd.io/namespace: flux-system\n", a)
				}
				b.WriteString("spec: {}\nstatus:\n  observedGeneration: 1\n")
				objs = append(objs, live(tb, b.String()))
				files = append(files, fmt.Sprintf("apps/app-%03d/res-%03d.yaml", a, f))
			}
		}
	}
	return ctx, objs, files
}

// BenchmarkLocate locates 50,000 live objects (one op = all of them)
// against a generated 10,000-file checkout, indexed once before timing.
func BenchmarkLocate(b *testing.B) {
	dir := b.TempDir()
	genCheckout(b, dir)
	ctx, objs, files := benchContext(b, dir)
	m, err := NewMapper(ctx)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if _, err := m.def.index(); err != nil {
		b.Fatal(err)
	}
	indexTime := time.Since(start)
	// Every object must be found, in its file, through its route.
	for i, o := range objs {
		r := m.Locate(o)
		if r.Err != nil {
			b.Fatalf("object %d: %v", i, r.Err)
		}
		want := [...]Via{ViaArgoCD, ViaFlux, ViaSearch}[benchRouteOf(i/(benchFiles*benchDocs))]
		if r.Location.File != files[i] || r.Location.Document != i%benchDocs || r.Location.Via != want {
			b.Fatalf("object %d: %+v, want %s document %d via %s", i, r.Location, files[i], i%benchDocs, want)
		}
	}
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		for _, o := range objs {
			if r := m.Locate(o); r.Location == nil {
				b.Fatal(r.Err)
			}
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	n := float64(b.N) * float64(len(objs))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/object")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/object")
	b.ReportMetric(float64(indexTime.Milliseconds()), "index-ms")
}

// BenchmarkIndex indexes the generated 10,000-file checkout.
func BenchmarkIndex(b *testing.B) {
	dir := b.TempDir()
	genCheckout(b, dir)
	b.ReportAllocs()
	for b.Loop() {
		c := &checkout{dir: dir}
		ix, err := c.index()
		if err != nil {
			b.Fatal(err)
		}
		if len(ix.entries) != benchApps*benchFiles*benchDocs {
			b.Fatalf("%d entries", len(ix.entries))
		}
	}
}
