package yamledit

import (
	"errors"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

const twoDocs = "a: 1 # one\n---\nb: 2\n"

// TestReleaseEndsTheEdit: after Release the File keeps its bytes and
// documents but no tree of the edit, and SetDoc and Render fail with
// ErrReleased instead of starting again from the original without the
// edit.
func TestReleaseEndsTheEdit(t *testing.T) {
	f, err := Parse("x.yaml", []byte(twoDocs), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetDoc(0, yaml.MustParse("a: 3")); err != nil {
		t.Fatal(err)
	}
	if out, err := f.Render(); err != nil || string(out) != "a: 3 # one\n---\nb: 2\n" {
		t.Fatalf("render: %q, %v", out, err)
	}
	f.Release()
	if f.orig != nil || f.edited != nil || f.style != nil {
		t.Fatalf("Release kept trees: orig %v, edited %v, style %v", f.orig != nil, f.edited != nil, f.style != nil)
	}
	if string(f.Data) != twoDocs || len(f.Docs) != 2 || f.Docs[1].Node == nil {
		t.Fatalf("Release changed the file's bytes or documents")
	}
	out, err := f.Render()
	if !errors.Is(err, ErrReleased) || out != nil {
		t.Fatalf("Render after Release: %q, %v; want ErrReleased", out, err)
	}
	if err := f.SetDoc(1, yaml.MustParse("b: 4")); !errors.Is(err, ErrReleased) {
		t.Fatalf("SetDoc after Release: %v; want ErrReleased", err)
	}
	if f.orig != nil || f.edited != nil {
		t.Fatalf("SetDoc after Release decoded or recorded trees")
	}
	f.Release() // again: nothing happens
	if _, err := f.Render(); !errors.Is(err, ErrReleased) {
		t.Fatalf("Render after a second Release: %v", err)
	}
}

// TestEditIsIndependent: a File from Edit starts from the original content
// and its edit, or its release, does not reach the File it came from nor
// other edits of it.
func TestEditIsIndependent(t *testing.T) {
	f, err := Parse("x.yaml", []byte(twoDocs), Options{})
	if err != nil {
		t.Fatal(err)
	}
	e1 := f.Edit()
	if err := e1.SetDoc(0, yaml.MustParse("a: 3")); err != nil {
		t.Fatal(err)
	}
	if out, err := e1.Render(); err != nil || string(out) != "a: 3 # one\n---\nb: 2\n" {
		t.Fatalf("first edit: %q, %v", out, err)
	}
	e1.Release()
	e2 := e1.Edit() // from a released File too: a new edit
	if err := e2.SetDoc(1, yaml.MustParse("b: 4")); err != nil {
		t.Fatal(err)
	}
	if out, err := e2.Render(); err != nil || string(out) != "a: 1 # one\n---\nb: 4\n" {
		t.Fatalf("second edit sees the first one: %q, %v", out, err)
	}
	if f.orig != nil || f.edited != nil {
		t.Fatalf("editing through Edit left trees in the parsed File")
	}
	if out, err := f.Render(); err != nil || string(out) != twoDocs {
		t.Fatalf("the parsed File: %q, %v; want it unedited", out, err)
	}
	if e2.Path != f.Path || e2.CRLF != f.CRLF || e2.NotEditable != f.NotEditable || &e2.Docs[0] != &f.Docs[0] {
		t.Fatalf("Edit does not share the file's path, flags and documents")
	}
}

// TestEditOfNotEditable: an edit of a file that must not be edited refuses
// edits as the file does.
func TestEditOfNotEditable(t *testing.T) {
	f, err := Parse("x.yaml", []byte("a: &x 1\nb: *x\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Edit().SetDoc(0, yaml.MustParse("a: 2")); !errors.Is(err, ErrNotEditable) {
		t.Fatalf("SetDoc: %v; want ErrNotEditable", err)
	}
}
