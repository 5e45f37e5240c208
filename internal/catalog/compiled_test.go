package catalog

import (
	"bytes"
	"testing"

	"github.com/kmend/kmend/patches"
)

// TestCompiledCatalogIsCurrent: the embedded catalog.json is exactly what
// the control files compile to, and decodes back to the same controls.
func TestCompiledCatalogIsCurrent(t *testing.T) {
	cs, err := LoadSources()
	if err != nil {
		t.Fatal(err)
	}
	SortByID(cs)
	want, err := Compile(cs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := patches.FS.ReadFile(CompiledFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("patches/%s is older than the control files: run make catalog", CompiledFile)
	}
	decoded, err := builtin()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Compile(decoded)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, want) {
		t.Fatal("the compiled catalog does not decode to the same controls")
	}
	for _, c := range decoded {
		if !c.Builtin || c.Source == "" || c.Dir == "" || c.Severity.String() != c.SeverityName {
			t.Fatalf("%s decoded without its origin: %+v", c.ID, c)
		}
	}
}
