package overlay_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/kustomize"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/overlay"
)

var update = flag.Bool("update", false, "rewrite the expected trees of testdata/<case>/expected")

// TestPlacement checks where each fix of the sample repository goes: the
// overlay patch that sets the value (strategic merge, RFC 6902, inline),
// the base when every kustomization rendering it needs the fix, a new
// patch in each overlay that needs it otherwise.
func TestPlacement(t *testing.T) {
	res := plan(t, fixtureRepo, selectControls(t, "KM-001", "KM-002", "KM-006", "KM-010"), overlay.Options{Fixability: autoReview})
	noDrops(t, res)
	type row struct {
		placement overlay.Placement
		file      string
		control   string
		container string   // "" for a pod-level fix
		roots     []string // where the findings it repairs were found
		also      string
	}
	want := []row{
		{overlay.PlacementPatch, "overlays/dev/debug-patch.yaml", "KM-001", "nginx", []string{"overlays/dev"}, ""},
		{overlay.PlacementPatch, "overlays/prod/kustomization.yaml", "KM-002", "nginx", []string{"overlays/prod"}, ""},
		{overlay.PlacementPatch, "overlays/staging/rootfs-patch.yaml", "KM-006", "nginx", []string{"overlays/staging"}, ""},
		{overlay.PlacementResource, "base/web/deployment.yaml", "KM-002", "exporter", []string{"base/web", "overlays/dev", "overlays/prod", "overlays/staging"}, ""},
		{overlay.PlacementResource, "base/web/deployment.yaml", "KM-002", "nginx", []string{"base/web", "overlays/dev", "overlays/staging"}, ""},
		{overlay.PlacementResource, "base/worker/deployment.yaml", "KM-002", "worker", []string{"base/worker", "overlays/prod"}, ""},
		{overlay.PlacementResource, "base/worker/deployment.yaml", "KM-010", "", []string{"base/worker", "overlays/prod"}, ""},
		{overlay.PlacementNewPatch, "overlays/dev/kmend-deployment-web.yaml", "KM-010", "", []string{"overlays/dev"}, "overlays/dev/kustomization.yaml"},
		{overlay.PlacementNewPatch, "overlays/staging/kmend-deployment-web.yaml", "KM-010", "", []string{"overlays/staging"}, "overlays/staging/kustomization.yaml"},
	}
	var got []row
	for _, f := range res.Fixes {
		r := row{placement: f.Placement, file: f.File, control: f.Patch.Result.Control.ID, also: strings.Join(f.Also, ",")}
		if f.Patch.Level == catalog.LevelContainer {
			r.container = f.Patch.Result.Target.Container
		}
		for _, fd := range f.Findings {
			if !slices.Contains(r.roots, fd.Root) {
				r.roots = append(r.roots, fd.Root)
			}
			if fd.ControlID != r.control {
				t.Errorf("%s: fix of %s repairs %s", f.File, r.control, fd.ControlID)
			}
		}
		sort.Strings(r.roots)
		if f.Line <= 0 {
			t.Errorf("%s: line %d", f.File, f.Line)
		}
		got = append(got, r)
	}
	key := func(r row) string {
		return fmt.Sprintf("%s %s %s %s %v %s", r.placement, r.file, r.control, r.container, r.roots, r.also)
	}
	var gs, ws []string
	for _, r := range got {
		gs = append(gs, key(r))
	}
	for _, r := range want {
		ws = append(ws, key(r))
	}
	sort.Strings(gs)
	sort.Strings(ws)
	if strings.Join(gs, "\n") != strings.Join(ws, "\n") {
		t.Fatalf("fixes:\n%s\nwant:\n%s", strings.Join(gs, "\n"), strings.Join(ws, "\n"))
	}
	// The base used by every overlay is not fixed in place for KM-010:
	// prod does not need it. Its own findings are left, with why.
	var left []string
	for _, l := range res.Left {
		left = append(left, l.Root+" "+l.ControlID+" "+l.Container)
		if !strings.Contains(l.Reason, "base of overlays/dev, overlays/prod, overlays/staging") {
			t.Errorf("left %s %s: %s", l.Root, l.ControlID, l.Reason)
		}
	}
	if strings.Join(left, ",") != "base/web KM-010 nginx,base/web KM-010 exporter" {
		t.Errorf("left: %v", left)
	}
	// Findings point at the value in the repository, not at the rendering.
	lines := map[string]int{
		"overlays/dev/debug-patch.yaml":      16, // privileged: true
		"overlays/staging/rootfs-patch.yaml": 4,  // value: false
		"overlays/prod/kustomization.yaml":   33, // inside the inline patch
	}
	for _, f := range res.Fixes {
		if want, ok := lines[f.File]; ok && (f.Findings[0].Position.Line != want || f.Line != want) {
			t.Errorf("%s: finding at line %d, fix at line %d, want %d", f.File, f.Findings[0].Position.Line, f.Line, want)
		}
		for _, fd := range f.Findings {
			if fd.Position.File == "" || fd.Position.Line == 0 {
				t.Errorf("%s %s: no position", fd.Root, fd.ControlID)
			}
			if f.Placement == overlay.PlacementPatch && fd.Position.File != f.File {
				t.Errorf("%s %s: position %s, want the patch %s", fd.Root, fd.ControlID, fd.Position.File, f.File)
			}
		}
	}
	if !slices.Contains(res.Inputs, "overlays/staging/rootfs-patch.yaml") || !slices.Contains(res.Inputs, "base/web/service.yaml") {
		t.Errorf("inputs: %v", res.Inputs)
	}
}

// TestGolden fixes each testdata/<case>/original tree (for
// testdata/kustomize-repo: the sample repository in fixtures/) with the
// controls and fixabilities of its options.yaml, and compares the result
// with testdata/<case>/expected byte for byte. Then it plans again: the
// second run must change nothing.
func TestGolden(t *testing.T) {
	dirs, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range dirs {
		optsFile := filepath.Join("testdata", d.Name(), "options.yaml")
		if _, err := os.Stat(optsFile); err != nil {
			continue
		}
		n++
		t.Run(d.Name(), func(t *testing.T) {
			original := filepath.Join("testdata", d.Name(), "original")
			if d.Name() == "kustomize-repo" {
				original = fixtureRepo
			}
			expected := filepath.Join("testdata", d.Name(), "expected")
			cs, opts := loadOptions(t, optsFile)
			dir := t.TempDir()
			copyTree(t, original, dir)
			res := plan(t, dir, cs, opts)
			noDrops(t, res)
			if len(res.Fixes) == 0 {
				t.Fatal("nothing fixed")
			}
			write(t, res)
			if err := os.Remove(filepath.Join(dir, "README.md")); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err) // the sample repository's README is not part of the case
			}
			got := readTree(t, dir)
			if *update {
				if err := os.RemoveAll(expected); err != nil {
					t.Fatal(err)
				}
				copyTree(t, dir, expected)
			}
			want := readTree(t, expected)
			for _, p := range sortedPaths(want) {
				g, ok := got[p]
				switch {
				case !ok:
					t.Errorf("%s: missing", p)
				case string(g) != string(want[p]):
					diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
						A: difflib.SplitLines(string(want[p])), B: difflib.SplitLines(string(g)),
						FromFile: "expected/" + p, ToFile: "got/" + p, Context: 2,
					})
					t.Errorf("%s differs:\n%s", p, diff)
				}
			}
			for _, p := range sortedPaths(got) {
				if _, ok := want[p]; !ok {
					t.Errorf("%s: not expected", p)
				}
			}
			again := plan(t, dir, cs, opts)
			noDrops(t, again)
			if again.Changed() || len(again.Fixes) > 0 {
				t.Errorf("second run: %d fixes, %d files", len(again.Fixes), len(again.Files))
			}
			for _, f := range res.Fixes {
				for _, fd := range f.Findings {
					for _, l := range again.Left {
						if l.Root == fd.Root && l.Fingerprint() == fd.Fingerprint() {
							t.Errorf("%s %s %s still fails after the fix", fd.Root, fd.ControlID, fd.Object)
						}
					}
				}
			}
		})
	}
	if n < 3 {
		t.Fatalf("%d golden cases", n)
	}
}

// TestAutoControlsPass fixes the sample repository with every auto fix of
// the catalog, writes it, renders every top-level kustomization again and
// checks no auto finding is left; a second run changes nothing.
func TestAutoControlsPass(t *testing.T) {
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	copyTree(t, fixtureRepo, dir)
	res := plan(t, dir, cat.All(), overlay.Options{})
	noDrops(t, res)
	write(t, res)
	for _, r := range res.Roots {
		if !r.TopLevel {
			continue
		}
		objs, err := kustomize.Build(dir, r.Path)
		if err != nil {
			t.Fatalf("%s no longer renders: %v", r.Path, err)
		}
		checked := 0
		for _, o := range objs {
			for _, cr := range check.Run(cat.All(), manifest.Object{Node: o.Node, Ref: o.Ref}, check.Options{}) {
				if cr.Finding.Suppression == nil && cr.Finding.Fixability == finding.FixAuto {
					t.Errorf("%s: %s still fails %s at %s", r.Path, o.Ref, cr.Control.ID, cr.Finding.Path)
				}
			}
			checked++
		}
		if checked == 0 {
			t.Errorf("%s: nothing rendered", r.Path)
		}
	}
	again := plan(t, dir, cat.All(), overlay.Options{})
	if again.Changed() || len(again.Fixes) > 0 || len(again.Dropped) > 0 {
		t.Errorf("second run: %d fixes, %d dropped, %d files", len(again.Fixes), len(again.Dropped), len(again.Files))
	}
}

// TestHostile checks that kustomizations whose paths leave the repository
// are refused and reported, nothing outside is read or written, and the
// kustomizations that render are still fixed. A broken kustomization (a
// missing resource, bad YAML) is reported with its file, the others fixed.
func TestHostile(t *testing.T) {
	tmp := t.TempDir()
	copyTree(t, "testdata/hostile", tmp)
	repo := filepath.Join(tmp, "repo")
	// A patch that is a symbolic link out of the repository.
	sym := filepath.Join(repo, "overlays", "symlink")
	if err := os.MkdirAll(sym, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(tmp, "outside.yaml"), filepath.Join(sym, "patch.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sym, "kustomization.yaml"), []byte("namePrefix: sym-\nresources: [../../base]\npatches: [{path: patch.yaml}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	outside, err := os.ReadFile(filepath.Join(tmp, "outside.yaml"))
	if err != nil {
		t.Fatal(err)
	}

	res := plan(t, repo, selectControls(t, "KM-001", "KM-002"), overlay.Options{Fixability: autoReview})
	errs := map[string]error{}
	for _, e := range res.Errors {
		var re *overlay.RootError
		if !errors.As(e, &re) {
			t.Fatalf("error %v is not a RootError", e)
		}
		errs[re.Root] = re
		if !strings.HasPrefix(e.Error(), re.File+": ") || re.File != re.Root+"/kustomization.yaml" {
			t.Errorf("%v: does not start with the kustomization file %s", e, re.File)
		}
	}
	for _, root := range []string{"overlays/escape-resource", "overlays/escape-patch", "overlays/symlink"} {
		if err := errs[root]; err == nil || !errors.Is(err, overlay.ErrEscapes) {
			t.Errorf("%s: %v, want a path leaving the repository refused", root, err)
		}
	}
	if err := errs["overlays/missing"]; err == nil || !strings.Contains(err.Error(), "does-not-exist.yaml") {
		t.Errorf("overlays/missing: %v", err)
	}
	if err := errs["overlays/badyaml"]; err == nil {
		t.Errorf("overlays/badyaml rendered")
	}
	if len(errs) != 5 {
		t.Errorf("errors: %v", res.Errors)
	}
	for _, r := range res.Roots {
		if (r.Err != nil) != (errs[r.Path] != nil) {
			t.Errorf("root %s: err %v", r.Path, r.Err)
		}
	}
	// The kustomizations that render are fixed: the base (which the good
	// overlay and the base itself both need fixed).
	var fixed []string
	for _, f := range res.Fixes {
		for _, fd := range f.Findings {
			fixed = append(fixed, fd.Root+" "+fd.ControlID+" "+f.File)
		}
	}
	sort.Strings(fixed)
	if strings.Join(fixed, ",") != "base KM-002 base/deployment.yaml,overlays/good KM-002 base/deployment.yaml" {
		t.Errorf("fixed: %v", fixed)
	}
	write(t, res)
	if b, _ := os.ReadFile(filepath.Join(tmp, "outside.yaml")); string(b) != string(outside) {
		t.Fatal("the file outside the repository changed")
	}
	for _, p := range res.Inputs {
		if strings.HasPrefix(p, "..") || strings.Contains(p, "outside") {
			t.Errorf("input %s is outside the repository", p)
		}
	}
}

// TestWriteRefusesEscapes: a result whose paths leave the repository is
// not written there.
func TestWriteRefusesEscapes(t *testing.T) {
	tmp := t.TempDir()
	repo := filepath.Join(tmp, "repo")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(tmp, filepath.Join(repo, "up")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"../evil.yaml", "/etc/evil.yaml", "up/evil.yaml", "a/../../evil.yaml"} {
		res := &overlay.Result{Repo: repo, Files: []overlay.FileChange{{Path: p, After: []byte("x: 1\n")}}}
		if _, err := res.Write(); !errors.Is(err, overlay.ErrEscapes) {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(tmp, "evil.yaml")); err == nil {
		t.Fatal("a file was written outside the repository")
	}
}

// TestCacheRendersOnlyWhatChanged: with a shared cache, a second plan of
// an unchanged repository builds nothing, and after one overlay's patch
// changes only that overlay is built again.
func TestCacheRendersOnlyWhatChanged(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, fixtureRepo, dir)
	cs := selectControls(t, "KM-001")
	c := overlay.NewCache()
	plan(t, dir, cs, overlay.Options{Cache: c})
	_, builds := c.Stats()
	if builds != 5 {
		t.Fatalf("first plan built %d renderings, want one per kustomization (5)", builds)
	}
	plan(t, dir, cs, overlay.Options{Cache: c})
	if _, b := c.Stats(); b != builds {
		t.Fatalf("an unchanged repository was built again (%d builds)", b-builds)
	}
	p := filepath.Join(dir, "overlays/dev/debug-patch.yaml")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), "replicas: 1", "replicas: 3", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	plan(t, dir, cs, overlay.Options{Cache: c})
	if _, b := c.Stats(); b != builds+1 {
		t.Fatalf("changing overlays/dev's patch built %d renderings, want 1", b-builds)
	}
	// Planning fixes renders again only what they affect; the repository
	// as written then needs no rendering at all.
	_, builds = c.Stats()
	fix := selectControls(t, "KM-002")
	res := plan(t, dir, fix, overlay.Options{Cache: c})
	_, built := c.Stats()
	if len(res.Fixes) == 0 || built-builds != 5 {
		t.Fatalf("planning %d fixes built %d renderings, want the 5 kustomizations they affect", len(res.Fixes), built-builds)
	}
	write(t, res)
	if again := plan(t, dir, fix, overlay.Options{Cache: c}); again.Changed() {
		t.Fatal("second run changes files")
	}
	if _, after := c.Stats(); after != built {
		t.Fatalf("the repository as written was rendered again (%d builds)", after-built)
	}
}

// TestPaths limits the fixes to one overlay: the shared base is not
// edited (the other overlays are not selected), the overlay gets its own
// patch instead, and nothing is reported about the others. The patch for
// the second container names the first one too, so that kustomize keeps
// the containers' order.
func TestPaths(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, fixtureRepo, dir)
	cs := selectControls(t, "KM-002")
	res := plan(t, dir, cs, overlay.Options{Paths: []string{"./overlays/dev"}})
	noDrops(t, res)
	if len(res.Left) != 0 {
		t.Errorf("left: %+v", res.Left)
	}
	var files []string
	for _, f := range res.Files {
		files = append(files, f.Path)
	}
	if strings.Join(files, ",") != "overlays/dev/kmend-deployment-web.yaml,overlays/dev/kustomization.yaml" {
		t.Fatalf("files: %v", files)
	}
	for _, f := range res.Fixes {
		if f.Placement != overlay.PlacementNewPatch || f.Root != "overlays/dev" {
			t.Errorf("fix %s %s in %s", f.Placement, f.File, f.Root)
		}
	}
	want := `# Added by kmend fix: settings this overlay needs and its bases do not set.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: nginx
          securityContext:
            allowPrivilegeEscalation: false
        - name: exporter
          securityContext:
            allowPrivilegeEscalation: false
`
	if got := string(res.Files[0].After); got != want {
		t.Errorf("new patch:\n%s\nwant:\n%s", got, want)
	}
	write(t, res)
	again := plan(t, dir, cs, overlay.Options{Paths: []string{"overlays/dev"}})
	if again.Changed() {
		t.Errorf("second run changes %d files", len(again.Files))
	}
	// The other overlays still need their fix: kmend fix on the whole
	// repository now edits the base, which dev no longer needs: so it
	// adds patches to staging and prod instead.
	rest := plan(t, dir, cs, overlay.Options{})
	noDrops(t, rest)
	for _, f := range rest.Fixes {
		if f.File == "base/web/deployment.yaml" {
			t.Errorf("the base was edited although dev no longer needs it")
		}
	}
}

// TestCommentedValueNeedsReview: a risky value with a comment next to it
// in the patch that sets it is treated as deliberate: its auto fix needs
// review, as for plain manifests.
func TestCommentedValueNeedsReview(t *testing.T) {
	res := plan(t, "testdata/nested/original", selectControls(t, "KM-002"), overlay.Options{})
	noDrops(t, res)
	if len(res.Fixes) != 0 {
		t.Fatalf("fixed: %+v", res.Fixes)
	}
	n := 0
	for _, l := range res.Left {
		if l.Root == "overlays/prod-eu" {
			n++
			if l.Fixability != finding.FixReview || !strings.Contains(l.Reason, "The JIT wants it") ||
				l.Position.File != "overlays/prod/tuning.yaml" || l.Position.Line != 14 {
				t.Errorf("left %s %s at %s:%d: %s (%s)", l.ControlID, l.Object, l.Position.File, l.Position.Line, l.Reason, l.Fixability)
			}
		}
	}
	if n != 1 {
		t.Fatalf("left: %+v", res.Left)
	}
}

// TestPathsSharedPatch: the value comes from a patch that unselected
// kustomizations use too: the patch is left alone and the selected
// overlay gets a patch of its own over it.
func TestPathsSharedPatch(t *testing.T) {
	res := plan(t, "testdata/nested/original", selectControls(t, "KM-002"),
		overlay.Options{Fixability: autoReview, Paths: []string{"overlays/prod-eu"}})
	noDrops(t, res)
	if len(res.Fixes) != 1 {
		t.Fatalf("fixes: %+v", res.Fixes)
	}
	f := res.Fixes[0]
	if f.Placement != overlay.PlacementNewPatch || f.File != "overlays/prod-eu/kmend-deployment-api.yaml" ||
		strings.Join(f.Changed, ",") != "overlays/prod-eu" || f.Source != "overlays/prod/tuning.yaml" {
		t.Fatalf("fix %s %s (from %s) changed %v", f.Placement, f.File, f.Source, f.Changed)
	}
	for _, fc := range res.Files {
		if !strings.HasPrefix(fc.Path, "overlays/prod-eu/") {
			t.Errorf("%s changed", fc.Path)
		}
	}
}

// TestRepositoryRoot: a kustomization at the repository's root, whose
// empty flow-style patches list gets the new patch (yamledit writes a
// list that was empty in block style).
func TestRepositoryRoot(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"kustomization.yaml":     "# The whole site.\nnamePrefix: site-\nresources: [app]\npatches: []\n",
		"app/kustomization.yaml": "resources:\n- deployment.yaml\n",
		"app/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n" +
			"      containers:\n      - name: web\n        image: registry.example.com/web:1.0.0\n",
		"other/kustomization.yaml": "namePrefix: other-\nresources: [../app]\npatches:\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n" +
			"    metadata: {name: web}\n    spec: {template: {spec: {containers: [{name: web, securityContext: {allowPrivilegeEscalation: false}}]}}}\n",
	}
	for p, s := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res := plan(t, dir, selectControls(t, "KM-002"), overlay.Options{})
	noDrops(t, res)
	if len(res.Fixes) != 1 || res.Fixes[0].Placement != overlay.PlacementNewPatch || res.Fixes[0].File != "kmend-deployment-web.yaml" || res.Fixes[0].Root != "." {
		t.Fatalf("fixes: %+v", res.Fixes)
	}
	write(t, res)
	b, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "# The whole site.\nnamePrefix: site-\nresources: [app]\npatches:\n- path: kmend-deployment-web.yaml\n"; string(b) != want {
		t.Fatalf("kustomization.yaml:\n%s\nwant:\n%s", b, want)
	}
	if again := plan(t, dir, selectControls(t, "KM-002"), overlay.Options{}); again.Changed() {
		t.Fatal("second run changes files")
	}
}

// writeRepo writes files (slash paths → content) below dir.
func writeRepo(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, s := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMultiDocumentPatch: one patch file patches two objects; each
// finding is traced to its own document and each document is edited.
func TestMultiDocumentPatch(t *testing.T) {
	dir := t.TempDir()
	deployment := func(name string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " + name + "\nspec:\n  template:\n    spec:\n" +
			"      containers:\n      - name: app\n        image: registry.example.com/" + name + ":1.0.0\n"
	}
	patchDoc := func(name, value string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " + name + "\nspec:\n  template:\n    spec:\n" +
			"      containers:\n      - name: app\n        securityContext:\n          privileged: " + value + "\n"
	}
	writeRepo(t, dir, map[string]string{
		"base/kustomization.yaml":    "resources: [a.yaml, b.yaml]\n",
		"base/a.yaml":                deployment("a"),
		"base/b.yaml":                deployment("b"),
		"overlay/kustomization.yaml": "namePrefix: o-\nresources: [../base]\npatches:\n- path: both.yaml\n",
		"overlay/both.yaml":          patchDoc("a", "true") + "---\n" + patchDoc("b", "true"),
	})
	res := plan(t, dir, selectControls(t, "KM-001"), overlay.Options{Fixability: autoReview})
	noDrops(t, res)
	if len(res.Fixes) != 2 {
		t.Fatalf("fixes: %+v", res.Fixes)
	}
	for _, f := range res.Fixes {
		if f.Placement != overlay.PlacementPatch || f.File != "overlay/both.yaml" {
			t.Errorf("fix %s %s", f.Placement, f.File)
		}
		fd := f.Findings[0]
		wantDoc := 0
		if fd.Object.Name == "o-b" {
			wantDoc = 1
		}
		if fd.Position.Document != wantDoc {
			t.Errorf("%s traced to document %d", fd.Object, fd.Position.Document)
		}
	}
	if len(res.Files) != 1 || string(res.Files[0].After) != patchDoc("a", "false")+"---\n"+patchDoc("b", "false") {
		t.Fatalf("files: %+v", res.Files)
	}
}
