package catalog

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestCompiledCatalogIsCurrent: builtin_gen.go is exactly what the control
// files compile to, and holds the same controls as they load to.
func TestCompiledCatalogIsCurrent(t *testing.T) {
	cs, err := LoadSources()
	if err != nil {
		t.Fatal(err)
	}
	SortByID(cs)
	want, err := CompileGo(cs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Base(CompiledFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is older than the control files: run make catalog", CompiledFile)
	}
	built, err := builtin()
	if err != nil {
		t.Fatal(err)
	}
	if len(built) != len(cs) {
		t.Fatalf("%d compiled controls, %d control files", len(built), len(cs))
	}
	for i, c := range built {
		if !reflect.DeepEqual(c, cs[i]) {
			t.Errorf("%s: the compiled control differs from its control file:\n%+v\n%+v", cs[i].ID, c, cs[i])
		}
		if !c.Builtin || c.Source == "" || c.Dir == "" || c.Severity.String() != c.SeverityName {
			t.Errorf("%s compiled without its origin: %+v", c.ID, c)
		}
	}
}

// TestCompileGoEveryField: the Go literal keeps every kind of field a
// control can have (pointers to structs, bools and numbers, embedded
// structs, slices of structs, named types), checked on a made-up control
// that sets them all.
func TestCompileGoEveryField(t *testing.T) {
	yes, zero := true, 0.0
	c := &Control{
		ID: "X-1", Severity: 3, SeverityName: "medium", Rationale: "two\nlines with a ` backquote\n", Builtin: true,
		Check: Check{Where: &Where{Field: "name", Matcher: Matcher{In: []string{"a"}, Present: &yes}}, Safe: &Matcher{GreaterThan: &zero, Equals: &Scalar{Value: "0"}}},
		Fix:   Fix{Fixability: "auto", Params: []Param{{Name: "p", Default: "1"}}, Pod: &Template{StrategicMerge: "a: 1\n"}},
	}
	src, err := CompileGo([]*Control{c})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Present: new(bool(true))", "GreaterThan: new(float64(0))", "Matcher: Matcher{", "Params: []Param{", "Pod: &Template{", `"two\nlines with a ` + "` backquote\\n\"", "finding.Fixability(\"auto\")"} {
		if !bytes.Contains(src, []byte(want)) {
			t.Errorf("compiled source lacks %s:\n%s", want, src)
		}
	}
}
