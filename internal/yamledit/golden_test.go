package yamledit

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/kustomize/kyaml/yaml/merge2"
)

var update = flag.Bool("update", false, "rewrite testdata/*/expected.yaml from the current output")

// editOp is one operation of a golden case's edit.yaml.
//
//   - doc: 0                       # document index (default 0)
//     path: [spec, containers, "[name=app]"]  # kyaml path, created for merge/set
//     merge: |                     # strategic-merge patch applied with merge2 at path
//     securityContext: {...}
//     field: image                 # with value: SetField(field, yaml.Parse(value)) at path
//     value: nginx:1.2
//     remove: [annotations]        # fields cleared at path
type editOp struct {
	Doc    int      `yaml:"doc"`
	Path   []string `yaml:"path"`
	Merge  string   `yaml:"merge"`
	Field  string   `yaml:"field"`
	Value  *string  `yaml:"value"`
	Remove []string `yaml:"remove"`
}

func loadOps(t testing.TB, path string) []editOp {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ops []editOp
	if err := yaml.Unmarshal(data, &ops); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return ops
}

// applyOps applies ops to copies of the documents of f and records them
// with SetDoc.
func applyOps(f *File, ops []editOp) error {
	docs := map[int]*yaml.RNode{}
	for _, op := range ops {
		if op.Doc < 0 || op.Doc >= len(f.Docs) || f.Docs[op.Doc].Node == nil {
			return fmt.Errorf("no document %d", op.Doc)
		}
		if docs[op.Doc] == nil {
			docs[op.Doc] = f.Docs[op.Doc].Node.Copy()
		}
		root, err := applyOp(docs[op.Doc], op)
		if err != nil {
			return err
		}
		docs[op.Doc] = root
	}
	for i, n := range docs {
		if err := f.SetDoc(i, n); err != nil {
			return err
		}
	}
	return nil
}

func applyOp(root *yaml.RNode, op editOp) (*yaml.RNode, error) {
	switch {
	case op.Merge != "":
		return mergeAt(root, op.Path, op.Merge)
	case op.Field != "" && op.Value != nil:
		value, err := yaml.Parse(*op.Value)
		if err != nil {
			return nil, err
		}
		target, err := root.Pipe(yaml.LookupCreate(yaml.MappingNode, op.Path...))
		if err != nil {
			return nil, err
		}
		return root, target.PipeE(yaml.SetField(op.Field, value))
	case len(op.Remove) > 0:
		target, err := root.Pipe(yaml.Lookup(op.Path...))
		if err != nil || target == nil {
			return nil, fmt.Errorf("lookup %v: %v", op.Path, err)
		}
		for _, field := range op.Remove {
			if _, err := target.Pipe(yaml.Clear(field)); err != nil {
				return nil, err
			}
		}
		return root, nil
	}
	return nil, fmt.Errorf("empty operation %+v", op)
}

// mergeAt merges patch into the node at path with merge2, as kmend does.
func mergeAt(root *yaml.RNode, path []string, patch string) (*yaml.RNode, error) {
	p, err := yaml.Parse(patch)
	if err != nil {
		return nil, err
	}
	target := root
	if len(path) > 0 {
		if target, err = root.Pipe(yaml.LookupCreate(yaml.MappingNode, path...)); err != nil {
			return nil, err
		}
	}
	merged, err := merge2.Merge(p, target, yaml.MergeOptions{ListIncreaseDirection: yaml.MergeOptionsListAppend})
	if err != nil {
		return nil, err
	}
	if merged.YNode() != target.YNode() {
		*target.YNode() = *merged.YNode()
	}
	return root, nil
}

func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*/original.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 20 {
		t.Fatalf("found only %d golden cases", len(dirs))
	}
	for _, orig := range dirs {
		dir := filepath.Dir(orig)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			runGolden(t, dir)
		})
	}
}

func runGolden(t *testing.T, dir string) {
	data, err := os.ReadFile(filepath.Join(dir, "original.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(dir, data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.NotEditable != nil {
		t.Fatal(f.NotEditable)
	}
	if err := applyOps(f, loadOps(t, filepath.Join(dir, "edit.yaml"))); err != nil {
		t.Fatal(err)
	}
	got, err := f.Render()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got, data) {
		t.Fatal("the edit changed nothing")
	}
	want := filepath.Join(dir, "expected.yaml")
	if *update {
		if err := os.WriteFile(want, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	exp, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, exp) {
		t.Errorf("output differs from %s\n--- got:\n%s\n--- want:\n%s", want, got, exp)
	}
	checkOutsideEdits(t, data, got)
}

// checkOutsideEdits checks properties every golden output must keep: it
// parses to as many documents, line endings stay CRLF in CRLF files, and a
// missing or present final newline is kept.
func checkOutsideEdits(t *testing.T, orig, got []byte) {
	t.Helper()
	f1, err := Parse("orig", orig, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f2, err := Parse("got", got, Options{})
	if err != nil {
		t.Fatalf("output does not parse: %v", err)
	}
	if len(f1.Docs) != len(f2.Docs) {
		t.Fatalf("document count changed: %d -> %d", len(f1.Docs), len(f2.Docs))
	}
	if f1.CRLF && bytes.Count(got, []byte("\n")) != bytes.Count(got, []byte("\r\n")) {
		t.Error("CRLF file got bare \\n line endings")
	}
	if bytes.HasSuffix(orig, []byte("\n")) != bytes.HasSuffix(got, []byte("\n")) {
		t.Error("final newline added or removed")
	}
	if !bytes.HasPrefix(got, firstLines(orig, 1)) {
		t.Error("first line changed")
	}
}

func firstLines(data []byte, n int) []byte {
	i := 0
	for ; n > 0 && i < len(data); n-- {
		j := bytes.IndexByte(data[i:], '\n')
		if j < 0 {
			return data
		}
		i += j + 1
	}
	return data[:i]
}
