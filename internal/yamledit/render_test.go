package yamledit

import (
	"errors"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// TestRenderCases sets a whole new document (given as YAML) and checks the
// exact bytes Render splices.
func TestRenderCases(t *testing.T) {
	cases := []struct {
		name, orig, edited, want string
	}{
		{"insert first item", "a:\n- x # first\n- y\n", "a: [w, x, y]", "a:\n- w\n- x # first\n- y\n"},
		{"remove middle item", "a:\n  - x\n  - y # drop\n  - z\n", "a: [x, z]", "a:\n  - x\n  - z\n"},
		{"change and append items", "a:\n- x\n- y\n", "a: [x, q, r]", "a:\n- x\n- q\n- r\n"},
		{"scalar to mapping", "a: 1 # one\nb: 2\n", "a:\n  c: 3\nb: 2", "a: # one\n  c: 3\nb: 2\n"},
		{"mapping to scalar", "a: # keep\n  c: 3\nb: 2\n", "{a: 1, b: 2}", "a: 1 # keep\nb: 2\n"},
		{"mapping emptied", "a:\n  c: 3\n  d: 4\nb: 2\n", "{a: {}, b: 2}", "a: {}\nb: 2\n"},
		{"list emptied", "a:\n- 1\nb: 2\n", "{a: [], b: 2}", "a: []\nb: 2\n"},
		{"root flow mapping", "{a: 1} # c\n", "{a: 1, b: [x]}", "{a: 1, b: [x]} # c\n"},
		{"inline root after ---", "--- {a: 1}\n", "{a: 1, b: 2}", "--- {a: 1, b: 2}\n"},
		{"inline empty root after ---", "--- {}\n", "{b: 2}", "---\nb: 2\n"},
		{"nested sequences", "- - a\n  - b\n- c\n", "[[a, x], c]", "- - a\n  - x\n- c\n"},
		{"empty item", "a:\n-\n- x\n", "a:\n- k: v\n- x", "a:\n- k: v\n- x\n"},
		{"item on its own line", "a:\n-\n  k: v\n", "a: [{k: w}]", "a:\n-\n  k: w\n"},
		{"remove last key keeps rest", "a: 1\nb: 2 # gone\n# tail\n", "{a: 1}", "a: 1\n# tail\n"},
		{"quoted key matched", "\"a\": 1\n'b': 2\n", "{a: 1, b: 3}", "\"a\": 1\n'b': 3\n"},
		{"tagged scalar", "a: !!str 1\n", "{a: !!str 2}", "a: !!str 2\n"},
		{"multi-line plain", "a: one\n  two\nb: x\n", "{a: three, b: x}", "a: three\nb: x\n"},
		{"folded keeps style", "a: >\n  one\n  two\nb: x\n", "{a: \"new\\ntext\\n\", b: x}", "a: >\n  new\n\n  text\nb: x\n"},
		{"keep chomping at end", "a: |+\n  x\n\n", "{a: \"x\\n\\n\", b: 1}", "a: |+\n  x\n\nb: 1\n"},
		{"int to string", "port: 8080\n", "{port: \"8080\"}", "port: \"8080\"\n"},
		{"bool-like string keeps quotes", "v: 'on'\n", "{v: 'off'}", "v: 'off'\n"},
		{"null value set", "a: ~\n", "{a: x}", "a: x\n"},
		{"value set to null", "a: x # c\n", "{a: null}", "a: null # c\n"},
		{"indented root", "  a: 1\n  b: 2\n", "{a: 1, b: 2, c: 3}", "  a: 1\n  b: 2\n  c: 3\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse("x.yaml", []byte(c.orig), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.SetDoc(0, yaml.MustParse(c.edited)); err != nil {
				t.Fatal(err)
			}
			got, err := f.Render()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}

func TestRenderRootKindChange(t *testing.T) {
	f, err := Parse("x.yaml", []byte("# head\na: 1\n---\nb: 2\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetDoc(0, yaml.MustParse("- x\n- y")); err != nil {
		t.Fatal(err)
	}
	got, err := f.Render()
	if err != nil {
		t.Fatal(err)
	}
	if want := "# head\n- x\n- y\n---\nb: 2\n"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestUnfaithfulIsRefused(t *testing.T) {
	// The self-check must catch a wrong splice: verify a deliberately
	// corrupted result.
	f, err := Parse("x.yaml", []byte("a: 1\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetDoc(0, yaml.MustParse("a: 2")); err != nil {
		t.Fatal(err)
	}
	if err := f.verify([]byte("a: 3\n")); err == nil {
		t.Fatal("verify accepted a wrong result")
	}
	if err := f.verify([]byte("a: 2\n---\nb: 1\n")); err == nil {
		t.Fatal("verify accepted an extra document")
	}
	if err := f.verify([]byte("a: 2\n")); err != nil {
		t.Fatal(err)
	}
}

func TestRenderAliasInEdit(t *testing.T) {
	f, err := Parse("x.yaml", []byte("a: 1\nb: 2\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := f.Docs[0].Node.Copy()
	target := n.YNode().Content[1]
	n.YNode().Content[3] = &yaml.Node{Kind: yaml.AliasNode, Value: "x", Alias: target}
	if err := f.SetDoc(0, n); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Render(); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("got %v, want ErrUnsupported", err)
	}
}
