package yamledit

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

func TestParseDocs(t *testing.T) {
	data := "# license\n---\na: 1\n---\n---\n# c\nb:\n  c: 2\n"
	f, err := Parse("x.yaml", []byte(data), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f.NotEditable != nil || f.CRLF {
		t.Fatalf("NotEditable=%v CRLF=%v", f.NotEditable, f.CRLF)
	}
	if len(f.Docs) != 3 {
		t.Fatalf("got %d docs, want 3", len(f.Docs))
	}
	want := []struct {
		line  int
		empty bool
	}{{3, false}, {4, true}, {7, false}}
	for i, w := range want {
		d := f.Docs[i]
		if d.Index != i || d.Line != w.line || (d.Node == nil) != w.empty {
			t.Errorf("doc %d: index %d line %d node %v, want line %d empty %v", i, d.Index, d.Line, d.Node, w.line, w.empty)
		}
	}
	if got := f.Docs[2].Node.MustString(); got != "# c\nb:\n  c: 2\n" {
		t.Errorf("doc 2 = %q", got)
	}
	if err := f.SetDoc(1, yaml.MustParse("x: 1")); !errors.Is(err, ErrUnsupported) {
		t.Errorf("SetDoc on an empty document: %v", err)
	}
	if err := f.SetDoc(3, yaml.MustParse("x: 1")); err == nil {
		t.Error("SetDoc out of range succeeded")
	}
}

func TestParseCRLF(t *testing.T) {
	f, err := Parse("x.yaml", []byte("a: 1\r\nb: 2\r\n"), Options{})
	if err != nil || !f.CRLF {
		t.Fatalf("CRLF not detected: %v", err)
	}
}

func TestParseError(t *testing.T) {
	_, err := Parse("bad.yaml", []byte("a: 1\nb: [\n"), Options{})
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("got %T %v, want *ParseError", err, err)
	}
	if pe.Path != "bad.yaml" || pe.Line == 0 || pe.Msg == "" || strings.HasPrefix(pe.Msg, "yaml:") {
		t.Errorf("ParseError = %+v", pe)
	}
	if want := fmt.Sprintf("bad.yaml:%d: ", pe.Line); !strings.HasPrefix(pe.Error(), want) {
		t.Errorf("Error() = %q, want prefix %q", pe.Error(), want)
	}
	if errors.Is(err, ErrTemplate) {
		t.Error("plain YAML error reported as a template")
	}
	pe = &ParseError{Path: "p", Line: 3, Column: 7, Msg: "boom"}
	if pe.Error() != "p:3:7: boom" {
		t.Errorf("Error() = %q", pe.Error())
	}
}

func TestTemplate(t *testing.T) {
	// A template that happens to parse: readable, not editable.
	f, err := Parse("t.yaml", []byte("name: \"{{ .Values.name }}\"\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(f.NotEditable, ErrNotEditable) || !errors.Is(f.NotEditable, ErrTemplate) {
		t.Fatalf("NotEditable = %v", f.NotEditable)
	}
	if err := f.SetDoc(0, f.Docs[0].Node.Copy()); !errors.Is(err, ErrNotEditable) {
		t.Errorf("SetDoc on a template: %v", err)
	}
	// A template that does not parse: a *ParseError wrapping ErrTemplate.
	_, err = Parse("t.yaml", []byte("{{- if .Values.on }}\na: 1\n{{- end }}\n"), Options{})
	var pe *ParseError
	if !errors.As(err, &pe) || !errors.Is(err, ErrTemplate) {
		t.Fatalf("got %v, want a *ParseError wrapping ErrTemplate", err)
	}
}

func TestNotEditable(t *testing.T) {
	cases := map[string]string{
		"anchor":   "a: &x 1\nb: 2\n",
		"alias":    "a: &x {k: v}\nb: *x\n",
		"merge":    "base: &b {k: v}\nc:\n  <<: *b\n",
		"lone CR":  "a: 1\rb: 2\n",
		"LS break": "a: \"x\u2028y\"\n",
		"dup key":  "a: 1\nb: 2\na: 3\n",
		"map key":  "? {a: 1}\n: x\n",
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := Parse("x.yaml", []byte(data), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !errors.Is(f.NotEditable, ErrNotEditable) || errors.Is(f.NotEditable, ErrTemplate) {
				t.Fatalf("NotEditable = %v", f.NotEditable)
			}
			if err := f.SetDoc(0, f.Docs[0].Node.Copy()); !errors.Is(err, ErrNotEditable) {
				t.Errorf("SetDoc: %v", err)
			}
			if out, err := f.Render(); err != nil || !bytes.Equal(out, f.Data) {
				t.Errorf("Render of an unedited file: %v", err)
			}
		})
	}
}

func TestMaxBytes(t *testing.T) {
	data := []byte("a: 1\nb: 2\n")
	_, err := Parse("big.yaml", data, Options{MaxBytes: 5})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "big.yaml") {
		t.Fatalf("got %v, want ErrTooLarge naming the file", err)
	}
	if _, err := Parse("big.yaml", data, Options{MaxBytes: int64(len(data))}); err != nil {
		t.Fatalf("file at the limit refused: %v", err)
	}
	big := bytes.Repeat([]byte("# padding\n"), defaultMaxBytes/10+1)
	if _, err := Parse("big.yaml", big, Options{}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("default limit: got %v", err)
	}
}

func lolBomb(levels int) []byte {
	var b strings.Builder
	b.WriteString("l0: &l0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	for i := 1; i < levels; i++ {
		p := fmt.Sprintf("*l%d", i-1)
		fmt.Fprintf(&b, "l%d: &l%d [%s]\n", i, i, strings.Repeat(p+",", 8)+p)
	}
	return []byte(b.String())
}

func TestAliasBomb(t *testing.T) {
	data := lolBomb(9)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := Parse("bomb.yaml", data, Options{})
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "bomb.yaml") {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("allocated %d bytes on a %d-byte bomb", alloc, len(data))
	}
	if elapsed > 2*time.Second {
		t.Errorf("took %v", elapsed)
	}
	// A small expansion stays under a custom limit only when it fits.
	if _, err := Parse("small.yaml", lolBomb(2), Options{MaxNodes: 50}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("2-level bomb over MaxNodes=50: %v", err)
	}
	f, err := Parse("small.yaml", lolBomb(2), Options{MaxNodes: 1000})
	if err != nil || f.NotEditable == nil {
		t.Errorf("2-level bomb under the limit: err=%v NotEditable=%v", err, f.NotEditable)
	}
}

func TestRecursiveAlias(t *testing.T) {
	_, err := Parse("rec.yaml", []byte("a: &a [x, *a]\n"), Options{})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("recursive alias: got %v, want ErrTooLarge", err)
	}
}

func TestNoOpRender(t *testing.T) {
	data := []byte("# c\na:   1 # x\nb: [1,  2]\n")
	f, err := Parse("x.yaml", data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.Render()
	if err != nil || &out[0] != &data[0] {
		t.Fatalf("Render without edits: %v, same slice %v", err, err == nil && &out[0] == &data[0])
	}
	// An identical tree, even restyled, renders to the same bytes.
	c := f.Docs[0].Node.Copy()
	c.YNode().Content[3].Style = 0
	c.YNode().Content[1].Style = yaml.DoubleQuotedStyle
	if err := f.SetDoc(0, c); err != nil {
		t.Fatal(err)
	}
	out, err = f.Render()
	if err != nil || !bytes.Equal(out, data) {
		t.Fatalf("no-op edit: %v\n%s", err, out)
	}
}

func TestSetDocSnapshot(t *testing.T) {
	f, err := Parse("x.yaml", []byte("a: 1\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Editing Docs[0].Node in place and handing it back works: the original
	// is kept separately.
	n := f.Docs[0].Node
	if err := n.PipeE(yaml.SetField("a", yaml.NewScalarRNode("2"))); err != nil {
		t.Fatal(err)
	}
	if err := f.SetDoc(0, n); err != nil {
		t.Fatal(err)
	}
	// Later changes to the node are not seen.
	if err := n.PipeE(yaml.SetField("a", yaml.NewScalarRNode("3"))); err != nil {
		t.Fatal(err)
	}
	out, err := f.Render()
	if err != nil || string(out) != "a: 2\n" {
		t.Fatalf("got %q, %v", out, err)
	}
}
