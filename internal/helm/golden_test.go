package helm

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/patch"
)

var update = flag.Bool("update", false, "rewrite testdata/*/expected from the current output")

// goldenCase is a testdata/<case>/case.yaml: what to plan. The case's
// original/ holds the files as they are in fixtures/helm (the test checks
// they are), expected/ the files as the fixes leave them; every other
// file of the repository must stay as it is.
type goldenCase struct {
	// Chart plans a chart of the repository with its own values.yaml.
	Chart string `yaml:"chart"`
	// Release plans a Flux HelmRelease or an Argo CD Application.
	Release *struct {
		Kind string `yaml:"kind"`
		File string `yaml:"file"`
		Doc  int    `yaml:"doc"`
	} `yaml:"release"`
	Controls   []string `yaml:"controls"`
	Fixability []string `yaml:"fixability"`
	// Exact: the render after the edits equals the render before with
	// every fix's RFC 6902 ops applied, in order.
	Exact bool `yaml:"exact"`
	// Fixes is how many values keys the case sets; Manual how many
	// findings fall back to a patch.
	Fixes  int `yaml:"fixes"`
	Manual int `yaml:"manual"`
}

func loadCase(t *testing.T, dir string) goldenCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "case.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c goldenCase
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	return c
}

// release resolves the case's chart, values and release name.
func (c goldenCase) release(t *testing.T, repo string) *Release {
	t.Helper()
	if c.Release == nil {
		return &Release{Chart: c.Chart}
	}
	var r *Release
	var err error
	switch c.Release.Kind {
	case "HelmRelease":
		r, err = HelmRelease(repo, c.Release.File, c.Release.Doc)
	case "Application":
		r, err = Application(repo, c.Release.File, c.Release.Doc)
	default:
		t.Fatalf("release kind %q", c.Release.Kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (c goldenCase) options(repo string) Options {
	o := Options{Renderer: Renderer{Repo: repo}}
	for _, f := range c.Fixability {
		o.Fixability = append(o.Fixability, finding.Fixability(f))
	}
	return o
}

func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*/case.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 7 {
		t.Fatalf("found only %d golden cases", len(dirs))
	}
	for _, p := range dirs {
		dir := filepath.Dir(p)
		t.Run(filepath.Base(dir), func(t *testing.T) { runGolden(t, dir) })
	}
}

func runGolden(t *testing.T, dir string) {
	c := loadCase(t, dir)
	// original/ must be the fixture files, so the pair reads as a diff.
	for _, name := range listFiles(t, filepath.Join(dir, "original")) {
		want, err := os.ReadFile(filepath.Join(fixtures, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, "original", filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("original/%s differs from fixtures/helm/%s", name, name)
		}
	}
	repo := copyTree(t, fixtures)
	rel := c.release(t, repo)
	res, err := PlanRelease(rel, controls(t, c.Controls...), c.options(repo))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Fixes) != c.Fixes || len(res.Manual) != c.Manual {
		for _, f := range res.Fixes {
			t.Logf("fix %s %s=%s", f.ControlID, f.KeyString(), f.Value)
		}
		for _, m := range res.Manual {
			t.Logf("manual %s: %s", m.Finding.ControlID, m.Reason)
		}
		t.Errorf("%d fixes and %d manual, want %d and %d", len(res.Fixes), len(res.Manual), c.Fixes, c.Manual)
	}
	written, err := res.Write()
	if err != nil {
		t.Fatal(err)
	}
	expectedDir := filepath.Join(dir, "expected")
	if *update {
		if err := os.RemoveAll(expectedDir); err != nil {
			t.Fatal(err)
		}
		for _, name := range written {
			data, err := os.ReadFile(filepath.Join(repo, filepath.FromSlash(name)))
			if err != nil {
				t.Fatal(err)
			}
			writeTree(t, expectedDir, map[string]string{name: string(data)})
		}
	}
	expected := listFiles(t, expectedDir)
	if !slices.Equal(written, expected) {
		t.Errorf("wrote %v, expected/ holds %v", written, expected)
	}
	for _, name := range listFiles(t, repo) {
		got, err := os.ReadFile(filepath.Join(repo, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		wantPath := filepath.Join(fixtures, filepath.FromSlash(name))
		if slices.Contains(expected, name) {
			wantPath = filepath.Join(expectedDir, filepath.FromSlash(name))
		}
		want, err := os.ReadFile(wantPath)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: got\n%s\nwant (%s)\n%s", name, got, wantPath, want)
		}
	}
	checkLines(t, repo, res)
	checkRender(t, repo, rel, res, c.Exact)

	// Idempotent: planning the fixed repository again changes nothing.
	again, err := PlanRelease(c.release(t, repo), controls(t, c.Controls...), c.options(repo))
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed() || len(again.Fixes) > 0 {
		t.Errorf("a second plan still sets %d keys", len(again.Fixes))
	}
}

// checkLines checks that each fix's line holds its key in the new file.
func checkLines(t *testing.T, repo string, res *Result) {
	t.Helper()
	for _, f := range res.Fixes {
		data, err := os.ReadFile(filepath.Join(repo, filepath.FromSlash(f.File())))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		last := f.Key[len(f.Key)-1]
		if f.Line < 1 || f.Line > len(lines) || !strings.HasPrefix(strings.TrimSpace(lines[f.Line-1]), last+":") {
			t.Errorf("%s %s: line %d does not hold %s:", f.ControlID, f.KeyString(), f.Line, last)
		}
	}
}

// checkRender renders before (from the fixtures) and after (from the
// written repository) through the public API and checks that nothing
// changed but the fixed fields: every changed leaf lies at or below a
// fixed finding's field or a path the fix's RFC 6902 ops touch.
func checkRender(t *testing.T, repo string, rel *Release, res *Result, exact bool) {
	t.Helper()
	render := func(dir string) map[string]any {
		objs, err := Renderer{Repo: dir, Release: rel.Name, Namespace: rel.Namespace}.Render(rel.Chart, rel.Values...)
		if err != nil {
			t.Fatal(err)
		}
		return objectsByKey(t, objs)
	}
	before, after := render(fixtures), render(repo)
	if !slices.Equal(keysOfMap(before), keysOfMap(after)) {
		t.Fatalf("objects before %v, after %v", keysOfMap(before), keysOfMap(after))
	}
	allowed := map[string][]string{}
	for _, f := range res.Fixes {
		for _, fd := range f.Findings {
			k := fd.Object.Kind + "/" + fd.Object.Namespace + "/" + fd.Object.Name
			allowed[k] = append(allowed[k], pathPointer(fd.Path))
			for _, op := range f.Patch.JSONPatch {
				allowed[k] = append(allowed[k], op.Path)
			}
		}
	}
	changed := 0
	for _, k := range keysOfMap(before) {
		for _, p := range leafDiff(before[k], after[k]) {
			changed++
			if !slices.ContainsFunc(allowed[k], func(a string) bool { return underPointer(p, a) }) {
				t.Errorf("%s: %s changed, which no fix targets", k, p)
			}
		}
	}
	if len(res.Fixes) > 0 && changed == 0 {
		t.Errorf("the render did not change")
	}
	if !exact {
		return
	}
	// The edits give exactly the catalog's fixes.
	docs := map[string][]byte{}
	for k, v := range before {
		docs[k], _ = json.Marshal(v)
	}
	for _, f := range res.Fixes {
		fd := f.Findings[0]
		k := fd.Object.Kind + "/" + fd.Object.Namespace + "/" + fd.Object.Name
		out, err := patch.ApplyJSONPatch(docs[k], f.Patch.JSONPatch)
		if err != nil {
			t.Fatalf("%s: %v", f.ControlID, err)
		}
		docs[k] = out
	}
	for k, v := range after {
		want, _ := json.Marshal(v)
		if !patch.SameJSON(docs[k], want) {
			t.Errorf("%s: the render after the edits is not the render before with the catalog's patches:\n%s\n%s", k, docs[k], want)
		}
	}
}
