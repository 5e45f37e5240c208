package overlay_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"

	syaml "sigs.k8s.io/yaml"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/overlay"
)

// fixtureRepo is the sample repository the package's tests start from.
const fixtureRepo = "../../fixtures/kustomize-repo"

// copyTree copies the regular files and directories of src into dst.
func copyTree(tb testing.TB, src, dst string) {
	tb.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// readTree returns every file below dir by slash path.
func readTree(tb testing.TB, dir string) map[string][]byte {
	tb.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func sortedPaths(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// caseOptions are a golden case's options.yaml.
type caseOptions struct {
	Controls   []string             `json:"controls"`
	Fixability []finding.Fixability `json:"fixability"`
}

func loadOptions(tb testing.TB, file string) ([]*catalog.Control, overlay.Options) {
	tb.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	var co caseOptions
	if err := syaml.UnmarshalStrict(b, &co); err != nil {
		tb.Fatalf("%s: %v", file, err)
	}
	return selectControls(tb, co.Controls...), overlay.Options{Fixability: co.Fixability}
}

func selectControls(tb testing.TB, ids ...string) []*catalog.Control {
	tb.Helper()
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		tb.Fatal(err)
	}
	cs, err := cat.Select(ids)
	if err != nil {
		tb.Fatal(err)
	}
	return cs
}

var autoReview = []finding.Fixability{finding.FixAuto, finding.FixReview}

// plan runs overlay.Plan and fails the test on an error.
func plan(tb testing.TB, repo string, cs []*catalog.Control, opts overlay.Options) *overlay.Result {
	tb.Helper()
	res, err := overlay.Plan(repo, cs, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// write writes a plan's files and fails the test on an error.
func write(tb testing.TB, res *overlay.Result) {
	tb.Helper()
	if _, err := res.Write(); err != nil {
		tb.Fatal(err)
	}
}

// noDrops fails the test for every dropped fix.
func noDrops(tb testing.TB, res *overlay.Result) {
	tb.Helper()
	for _, d := range res.Dropped {
		for _, f := range d.Findings {
			tb.Errorf("dropped %s %s in %s (%s %s): %s", f.ControlID, f.Object, f.Root, d.Placement, d.File, d.Reason)
		}
	}
	for _, e := range res.Errors {
		tb.Errorf("error: %v", e)
	}
}
