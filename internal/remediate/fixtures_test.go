package remediate_test

import (
	"testing"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/remediate"
)

// TestCatalogFixtures runs every built-in control through the whole fix
// pipeline on its own fixtures: fixing failing.yaml must give fixed.yaml byte
// for byte, with every fix verified against apimachinery's strategic merge
// and evanphx/json-patch.
func TestCatalogFixtures(t *testing.T) {
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cat.All() {
		t.Run(c.ID, func(t *testing.T) {
			fsys, dir := remediate.FixtureFS(c)
			if err := remediate.RunFixtures(c, fsys, dir); err != nil {
				t.Error(err)
			}
		})
	}
}
