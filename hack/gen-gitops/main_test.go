package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmend/kmend/internal/kustomize"
	"github.com/kmend/kmend/internal/manifest"
)

var small = config{objects: 1500, files: 300, kusts: 10, seed: 1}

func generated(t *testing.T, cfg config) (string, stats) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "out")
	st, err := generate(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dir, st
}

func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDeterministic(t *testing.T) {
	a, _ := generated(t, small)
	b, _ := generated(t, small)
	ta, tb := tree(t, a), tree(t, b)
	if len(ta) != len(tb) {
		t.Fatalf("%d and %d files", len(ta), len(tb))
	}
	for k, v := range ta {
		if !bytes.Equal(v, tb[k]) {
			t.Fatalf("%s differs between two runs with the same seed", k)
		}
	}
	other := small
	other.seed = 2
	c, _ := generated(t, other)
	same := 0
	tc := tree(t, c)
	for k, v := range ta {
		if bytes.Equal(v, tc[k]) {
			same++
		}
	}
	if same == len(ta) {
		t.Error("seed 2 gave the same corpus as seed 1")
	}
}

// TestCounts: exactly the files, kustomizations and live objects asked for.
func TestCounts(t *testing.T) {
	dir, st := generated(t, small)
	files, kusts := 0, 0
	for p := range tree(t, filepath.Join(dir, "repo")) {
		files++
		if path.Base(p) == "kustomization.yaml" {
			kusts++
		}
	}
	if files != small.files || st.files != files || kusts != small.kusts || st.kusts != kusts {
		t.Errorf("%d files (stats %d), %d kustomizations (stats %d); want %d and %d", files, st.files, kusts, st.kusts, small.files, small.kusts)
	}
	set := manifest.Load([]string{filepath.Join(dir, "live")}, manifest.Options{})
	if len(set.Errors) > 0 {
		t.Fatal(set.Errors[0])
	}
	if len(set.Objects) != small.objects {
		t.Errorf("%d live objects, want %d", len(set.Objects), small.objects)
	}
	deployments := 0
	for _, o := range manifest.WithoutControlled(set.Objects) {
		switch o.Ref.Kind {
		case "ReplicaSet", "Pod":
			t.Errorf("%s is not controlled by a Deployment of the snapshot", o.Ref)
		case "Deployment":
			deployments++
		}
	}
	exp, err := os.ReadFile(filepath.Join(dir, "expect.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(exp), "\n") - 1; deployments != st.deployments || n != deployments {
		t.Errorf("%d Deployments, stats say %d, expect.tsv lists %d", deployments, st.deployments, n)
	}
}

// TestOverlaysRender: every kustomization builds, and the live snapshot
// shows what kustomize renders: the overlays' Deployments by name and
// namespace, and, where the objects carry kustomize's origin annotation,
// the file kustomize names.
func TestOverlaysRender(t *testing.T) {
	dir, _ := generated(t, small)
	repo := filepath.Join(dir, "repo")
	want := map[string]string{} // namespace/name → file
	exp, err := os.ReadFile(filepath.Join(dir, "expect.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(exp)), "\n")[1:] {
		c := strings.Split(l, "\t")
		want[c[0]+"/"+c[1]] = c[2]
	}
	origins := map[string]string{} // namespace/name → origin path, from the snapshot
	set := manifest.Load([]string{filepath.Join(dir, "live")}, manifest.Options{})
	for _, o := range set.Objects {
		if o.Ref.Kind != "Deployment" {
			continue
		}
		if a := o.Node.GetAnnotations()[kustomize.OriginAnnotation]; a != "" {
			origins[o.Ref.Namespace+"/"+o.Ref.Name] = strings.TrimSpace(strings.TrimPrefix(a, "path: "))
		}
	}
	roots, err := kustomize.Roots(repo)
	if err != nil {
		t.Fatal(err)
	}
	if len(roots) != small.kusts {
		t.Fatalf("%d kustomizations", len(roots))
	}
	rendered, withOrigin := 0, 0
	for _, root := range roots {
		objs, err := kustomize.Build(repo, root)
		if err != nil {
			t.Fatalf("%s: %v", root, err)
		}
		if !strings.Contains(root, "/overlays/") {
			continue
		}
		for _, o := range objs {
			if o.Ref.Kind != "Deployment" {
				continue
			}
			k := o.Ref.Namespace + "/" + o.Ref.Name
			file, ok := want[k]
			if !ok {
				t.Errorf("%s renders %s, which the snapshot does not have", root, k)
				continue
			}
			rendered++
			if file != o.Origin {
				t.Errorf("%s: expect.tsv says %s, kustomize %s", k, file, o.Origin)
			}
			if p, ok := origins[k]; ok {
				withOrigin++
				if got := path.Join(root, p); got != o.Origin {
					t.Errorf("%s: the origin annotation leads to %s, kustomize says %s", k, got, o.Origin)
				}
			}
		}
	}
	if rendered == 0 || withOrigin == 0 {
		t.Errorf("%d overlay Deployments rendered, %d with origin annotations", rendered, withOrigin)
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	exp := filepath.Join(dir, "expect.tsv")
	if err := os.WriteFile(exp, []byte("namespace\tname\tfile\tdocument\tvia\nns\ta\tapps/a.yaml\t0\tsearch\nns\tb\tapps/b.yaml\t1\tflux\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	report := func(entries ...map[string]any) string {
		p := filepath.Join(dir, "report.json")
		b, _ := json.Marshal(entries)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	obj := func(name string) map[string]any {
		return map[string]any{"kind": "Deployment", "namespace": "ns", "name": name}
	}
	good := report(
		map[string]any{"object": obj("a"), "location": map[string]any{"file": "apps/a.yaml", "document": 0, "via": "search"}},
		map[string]any{"object": obj("b"), "location": map[string]any{"file": "apps/b.yaml", "document": 1, "via": "flux"}},
	)
	if s, err := check(exp, good); err != nil || !strings.HasPrefix(s, "located=2 correct=2 wrong=0 missing=0") {
		t.Fatalf("%q, %v", s, err)
	}
	bad := report(
		map[string]any{"object": obj("a"), "location": map[string]any{"file": "apps/b.yaml", "document": 0, "via": "search"}},
		map[string]any{"object": obj("b"), "error": "not found"},
	)
	if s, err := check(exp, bad); err == nil || !strings.HasPrefix(s, "located=1 correct=0 wrong=1 missing=1") {
		t.Fatalf("%q, %v", s, err)
	}
}
