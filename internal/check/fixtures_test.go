package check_test

import (
	"io/fs"
	"path"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/patches"
)

// TestCatalogFixtures runs every built-in control on its own fixtures:
// failing.yaml must fail it, passing.yaml and fixed.yaml must not.
func TestCatalogFixtures(t *testing.T) {
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(cat.All()); n < 1 {
		t.Fatalf("catalog has %d controls", n)
	}
	for _, c := range cat.All() {
		t.Run(c.ID, func(t *testing.T) {
			dir := path.Base(c.Dir)
			if got := count(t, c, path.Join(dir, catalog.FailingFile)); got == 0 {
				t.Errorf("%s: no finding for %s", catalog.FailingFile, c.ID)
			}
			if got := count(t, c, path.Join(dir, catalog.PassingFile)); got != 0 {
				t.Errorf("%s: %d findings for %s, want 0", catalog.PassingFile, got, c.ID)
			}
			if c.Fix.Fixability != "manual" {
				if got := count(t, c, path.Join(dir, catalog.FixedFile)); got != 0 {
					t.Errorf("%s: %d findings for %s, want 0", catalog.FixedFile, got, c.ID)
				}
			}
		})
	}
}

func count(t *testing.T, c *catalog.Control, file string) int {
	t.Helper()
	data, err := fs.ReadFile(patches.FS, file)
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := kio.FromBytes(data)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	n := 0
	for i, node := range nodes {
		ref, ok := manifest.ObjectRefOf(node)
		if !ok {
			t.Fatalf("%s: document %d is not a Kubernetes object", file, i)
		}
		for _, r := range check.Run([]*catalog.Control{c}, manifest.Object{Node: node, Ref: ref}, check.Options{}) {
			if r.Finding.Suppression == nil {
				n++
			}
		}
	}
	return n
}
