package remediate_test

import (
	"os"
	"testing"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/remediate"
)

// BenchmarkRun fixes the sample repository in memory (set KMEND_BENCH_DIR
// to fix another tree).
func BenchmarkRun(b *testing.B) {
	dir := os.Getenv("KMEND_BENCH_DIR")
	if dir == "" {
		dir = "../../fixtures/demo-repo"
	}
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		set := manifest.Load([]string{dir}, manifest.Options{})
		remediate.Run(set, cat.All(), remediate.Options{})
	}
}
