package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func tree(t *testing.T, seed uint64) map[string][]byte {
	t.Helper()
	dir := t.TempDir()
	if _, err := generate(dir, 300, 50, seed); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDeterministic(t *testing.T) {
	a, b := tree(t, 1), tree(t, 1)
	if len(a) != 300 || len(b) != 300 {
		t.Fatalf("got %d and %d files, want 300", len(a), len(b))
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			t.Fatalf("%s differs between two runs with the same seed", k)
		}
	}
	c := tree(t, 2)
	same := 0
	for k, v := range a {
		if bytes.Equal(v, c[k]) {
			same++
		}
	}
	if same == len(a) {
		t.Error("seed 2 gave the same tree as seed 1")
	}
}

// TestShape checks what a YAML parser would choke on first, without one:
// tabs, documents without apiVersion/kind, mixed line endings.
func TestShape(t *testing.T) {
	crlf := 0
	for name, b := range tree(t, 1) {
		s := string(b)
		if strings.Contains(s, "\t") {
			t.Errorf("%s: has a tab", name)
		}
		if strings.Contains(s, "\r\n") {
			crlf++
			if strings.Count(s, "\r\n") != strings.Count(s, "\n") {
				t.Errorf("%s: mixed line endings", name)
			}
			s = strings.ReplaceAll(s, "\r\n", "\n")
		}
		for i, doc := range strings.Split(s, "\n---\n") {
			if onlyComments(doc) {
				continue // the header before a leading "---"
			}
			if !strings.Contains(doc, "\napiVersion: ") && !strings.HasPrefix(doc, "apiVersion: ") {
				t.Errorf("%s: document %d has no apiVersion", name, i)
			}
			if !strings.Contains(doc, "\nkind: ") {
				t.Errorf("%s: document %d has no kind", name, i)
			}
		}
	}
	if crlf == 0 {
		t.Error("no CRLF file in 300")
	}
}

func onlyComments(doc string) bool {
	for _, l := range strings.Split(doc, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			return false
		}
	}
	return true
}
