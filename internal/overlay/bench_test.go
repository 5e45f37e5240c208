package overlay_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/overlay"
)

// benchRepo generates a repository of 100 kustomizations: 20 copies of
// the sample repository (two bases, three overlays each).
func benchRepo(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	for i := range 20 {
		copyTree(tb, fixtureRepo, filepath.Join(dir, "apps", fmt.Sprintf("app-%02d", i)))
	}
	return dir
}

func TestBenchRepo(t *testing.T) {
	res := plan(t, benchRepo(t), selectControls(t, "KM-002"), overlay.Options{})
	noDrops(t, res)
	if len(res.Roots) != 100 {
		t.Fatalf("%d kustomizations, want 100", len(res.Roots))
	}
	if len(res.Fixes) != 20*4 {
		t.Fatalf("%d fixes, want 80", len(res.Fixes))
	}
}

// BenchmarkPlan plans the auto fixes of the whole catalog on 100
// kustomizations, from a cold cache: every kustomization is rendered, the
// fixes are planned, and the kustomizations they affect are rendered again
// to verify them.
func BenchmarkPlan(b *testing.B) {
	dir := benchRepo(b)
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := overlay.Plan(dir, cat.All(), overlay.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlanCached plans again with the cache of an earlier plan: no
// kustomization is rendered, only checked and planned.
func BenchmarkPlanCached(b *testing.B) {
	dir := benchRepo(b)
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		b.Fatal(err)
	}
	c := overlay.NewCache()
	if _, err := overlay.Plan(dir, cat.All(), overlay.Options{Cache: c}); err != nil {
		b.Fatal(err)
	}
	_, builds := c.Stats()
	b.ResetTimer()
	for b.Loop() {
		if _, err := overlay.Plan(dir, cat.All(), overlay.Options{Cache: c}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if _, after := c.Stats(); after != builds {
		b.Fatalf("%d renderings built from a warm cache", after-builds)
	}
}
