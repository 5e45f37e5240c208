package sourcemap

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/yamledit"
)

// The GitOps scale benchmarks run on a corpus of hack/gen-gitops: a
// repository of kustomizations (bases and overlays with namePrefix,
// namespace and patches), plain manifests, Argo CD Applications and Flux
// Kustomizations, and the live snapshot of what it deploys (Deployments
// with their ReplicaSets and Pods, Services), tracked by Argo CD
// tracking-ids and instance labels, Flux labels, kustomize origin
// annotations, kmend annotations, or nothing.
//
// KMEND_BENCH_GITOPS names a corpus made by `go run ./hack/gen-gitops -out
// DIR` (hack/bench/mapping.sh keeps them under .cache/bench-mapping/);
// without it a corpus of KMEND_BENCH_OBJECTS live objects (default 5000)
// is generated into a temporary directory.

// gitopsCorpus is a loaded corpus: the Argo CD and Flux objects, the
// top-level Deployments (those a person wrote: every one has findings in
// the built-in catalog) and where each must be found.
type gitopsCorpus struct {
	repo    string
	ctx     Context
	objects []*yaml.RNode
	want    []string // "file#document via"
	live    int      // objects in the snapshot
}

func loadGitOpsCorpus(tb testing.TB) *gitopsCorpus {
	tb.Helper()
	dir := os.Getenv("KMEND_BENCH_GITOPS")
	if dir == "" {
		n := 5000
		if s := os.Getenv("KMEND_BENCH_OBJECTS"); s != "" {
			var err error
			if n, err = strconv.Atoi(s); err != nil {
				tb.Fatalf("KMEND_BENCH_OBJECTS=%q: %v", s, err)
			}
		}
		_, self, _, _ := runtime.Caller(0)
		module := filepath.Join(filepath.Dir(self), "..", "..")
		dir = filepath.Join(tb.TempDir(), "corpus")
		cmd := exec.Command("go", "run", "./hack/gen-gitops", "-out", dir, "-objects", strconv.Itoa(n))
		cmd.Dir = module
		if out, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("hack/gen-gitops: %v\n%s", err, out)
		}
	}
	c := &gitopsCorpus{repo: filepath.Join(dir, "repo")}
	c.ctx.Repos = map[string]string{"": c.repo, "https://github.com/kmend-bench/gitops": c.repo}
	set := manifest.Load([]string{filepath.Join(dir, "live")}, manifest.Options{})
	if len(set.Errors) > 0 {
		tb.Fatal(set.Errors[0])
	}
	c.live = len(set.Objects)
	want := map[string]string{}
	f, err := os.Open(filepath.Join(dir, "expect.tsv"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		col := strings.Split(sc.Text(), "\t")
		if len(col) == 5 && col[0] != "namespace" {
			want[col[0]+"/"+col[1]] = col[2] + "#" + col[3] + " " + col[4]
		}
	}
	for _, o := range manifest.WithoutControlled(set.Objects) {
		switch o.Ref.Kind {
		case "Application":
			c.ctx.Applications = append(c.ctx.Applications, o.Node)
		case "Kustomization":
			c.ctx.Kustomizations = append(c.ctx.Kustomizations, o.Node)
		case "GitRepository":
			c.ctx.GitRepositories = append(c.ctx.GitRepositories, o.Node)
		case "Deployment":
			c.objects = append(c.objects, o.Node)
			c.want = append(c.want, want[o.Ref.Namespace+"/"+o.Ref.Name])
		}
	}
	if len(c.objects) == 0 || len(c.objects) != len(want) {
		tb.Fatalf("%d Deployments in the snapshot, %d expected", len(c.objects), len(want))
	}
	return c
}

// BenchmarkCorrelateGitOps maps every top-level Deployment of the
// snapshot to its file, from a new Mapper each time: one op indexes the
// checkout (the first Locate) and locates them all. Every object must be
// found where the generator put it, through the route it set up.
func BenchmarkCorrelateGitOps(b *testing.B) {
	c := loadGitOpsCorpus(b)
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m, err := NewMapper(c.ctx)
		if err != nil {
			b.Fatal(err)
		}
		for i, o := range c.objects {
			r := m.Locate(o)
			if r.Location == nil {
				b.Fatalf("%s: %v", r.Object, r.Err)
			}
			if got := fmt.Sprintf("%s#%d %s", r.Location.File, r.Location.Document, r.Location.Via); got != c.want[i] {
				b.Fatalf("%s: found %s, want %s", r.Object, got, c.want[i])
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(c.objects)), "ns/object")
	b.ReportMetric(float64(c.live), "live-objects")
}

// BenchmarkLocateGitOps is BenchmarkCorrelateGitOps with the checkout
// indexed once, before timing: Locate alone.
func BenchmarkLocateGitOps(b *testing.B) {
	c := loadGitOpsCorpus(b)
	m, err := NewMapper(c.ctx)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.def.index(); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, o := range c.objects {
			if r := m.Locate(o); r.Location == nil {
				b.Fatalf("%s: %v", r.Object, r.Err)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(c.objects)), "ns/object")
}

// BenchmarkIndexGitOps indexes the checkout.
func BenchmarkIndexGitOps(b *testing.B) {
	c := loadGitOpsCorpus(b)
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		co := &checkout{dir: c.repo}
		if _, err := co.index(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDecodePlainAsParse: the index's fast path (manifest.DecodeForReading) lists the
// same objects, documents and lines as yamledit.Parse on every manifest of
// the repository's fixtures and on odd inputs.
func TestDecodePlainAsParse(t *testing.T) {
	slow := func(p string, data []byte) ([]entry, bool) {
		f, err := yamledit.Parse(p, data, yamledit.Options{MaxBytes: maxFileBytes})
		if err != nil || errors.Is(f.NotEditable, yamledit.ErrTemplate) {
			return nil, false
		}
		var out []entry
		for _, o := range manifest.FromFiles(f).Objects {
			out = append(out, entry{file: p, doc: o.Pos.Document, line: o.Pos.Line, group: groupOf(o.Ref.APIVersion), kind: o.Ref.Kind, ns: o.Ref.Namespace, name: o.Ref.Name})
		}
		return out, true
	}
	inputs := map[string][]byte{
		"empty":        nil,
		"comments":     []byte("# only\n# comments\n"),
		"separators":   []byte("---\n---\n...\n---\n"),
		"nulls":        []byte("---\nnull\n---\n~\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"),
		"scalar":       []byte("just text\n"),
		"sequence":     []byte("- apiVersion: v1\n  kind: Pod\n"),
		"list":         []byte("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n- 3\n- apiVersion: v1\n  kind: PodList\n  items:\n  - {apiVersion: v1, kind: Pod, metadata: {name: b}}\n"),
		"flow":         []byte("{apiVersion: v1, kind: Pod, metadata: {name: a, namespace: b}}\n---\n  apiVersion: v1\n  kind: Pod\n  metadata:\n    name: c\n"),
		"broken":       []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n    bad: indent\n"),
		"tab":          []byte("apiVersion: v1\n\tkind: Pod\n"),
		"crlf":         []byte("apiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n  name: a\r\n"),
		"directive":    []byte("%YAML 1.2\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"),
		"json":         []byte(`{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}}`),
		"template":     []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Name }}\n"),
		"aliases":      []byte("apiVersion: v1\nkind: Pod\nmetadata: &m {name: a}\nx: *m\n"),
		"dupkeys":      []byte("apiVersion: v1\nkind: Pod\nkind: Service\nmetadata: {name: a, name: b}\n"),
		"unusualbreak": []byte("apiVersion: v1\rkind: Pod\n"),
		"notutf8":      []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: \"a\xff\"}\n"),
	}
	_, self, _, _ := runtime.Caller(0)
	fixtures := filepath.Join(filepath.Dir(self), "..", "..", "fixtures")
	err := filepath.WalkDir(fixtures, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch filepath.Ext(p) {
		case ".yaml", ".yml", ".json":
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			inputs[p] = data
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	fast := 0
	for name, data := range inputs {
		if _, ok := manifest.DecodeForReading(name, data, maxFileBytes); ok {
			fast++
		}
		got, gotOK, _ := parseEntries(name, data)
		want, wantOK := slow(name, data)
		if gotOK != wantOK || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s:\nindex reads %v %+v\nParse reads %v %+v", name, gotOK, got, wantOK, want)
		}
	}
	if fast < len(inputs)/2 {
		t.Errorf("the fast path took only %d of %d inputs", fast, len(inputs))
	}
}
