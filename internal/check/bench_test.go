package check_test

import (
	"io/fs"
	"path"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/patches"
)

// benchObjects returns every workload of the catalog's fixtures (failing,
// passing and fixed files of every control): a mix of kinds, of risky, safe
// and unset values, of container types and of exemption annotations.
func benchObjects(b *testing.B, cat *catalog.Catalog) []manifest.Object {
	b.Helper()
	var out []manifest.Object
	for _, c := range cat.All() {
		dir := path.Base(c.Dir)
		for _, name := range []string{catalog.FailingFile, catalog.PassingFile, catalog.FixedFile} {
			file := path.Join(dir, name)
			data, err := fs.ReadFile(patches.FS, file)
			if err != nil {
				continue
			}
			nodes, err := kio.FromBytes(data)
			if err != nil {
				b.Fatalf("%s: %v", file, err)
			}
			for i, n := range nodes {
				if ref, ok := manifest.ObjectRefOf(n); ok {
					out = append(out, manifest.Object{Node: n, Ref: ref, Pos: finding.Position{File: file, Document: i, Line: 1}})
				}
			}
		}
	}
	return out
}

// BenchmarkRun checks every built-in control on every fixture workload.
func BenchmarkRun(b *testing.B) {
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		b.Fatal(err)
	}
	cat.Warm()
	objs := benchObjects(b, cat)
	controls := cat.All()
	n := 0
	for _, o := range objs {
		n += len(check.Run(controls, o, check.Options{}))
	}
	if n == 0 {
		b.Fatal("no findings")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, o := range objs {
			check.Run(controls, o, check.Options{})
		}
	}
	b.ReportMetric(float64(n), "findings/op")
}
