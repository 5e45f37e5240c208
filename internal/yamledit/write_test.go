//go:build unix

package yamledit

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestWriteFileUnchanged(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.yaml")
	data := []byte("a: 1\n")
	if err := os.WriteFile(path, data, 0o640); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	before := stat(t, path)
	changed, err := WriteFile(path, data)
	if err != nil || changed {
		t.Fatalf("changed=%v err=%v", changed, err)
	}
	after := stat(t, path)
	if !after.ModTime().Equal(old) || inode(before) != inode(after) {
		t.Errorf("file touched: mtime %v -> %v, inode %d -> %d", old, after.ModTime(), inode(before), inode(after))
	}
	assertNoTemp(t, dir, 1)
}

func TestWriteFileChanged(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.yaml")
	if err := os.WriteFile(path, []byte("a: 1\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil { // umask-proof
		t.Fatal(err)
	}
	changed, err := WriteFile(path, []byte("a: 2\n"))
	if err != nil || !changed {
		t.Fatalf("changed=%v err=%v", changed, err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "a: 2\n" {
		t.Fatalf("content %q, %v", got, err)
	}
	if mode := stat(t, path).Mode().Perm(); mode != 0o640 {
		t.Errorf("mode %v, want 0640", mode)
	}
	assertNoTemp(t, dir, 1)
}

func TestWriteFileSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.yaml")
	link := filepath.Join(dir, "link.yaml")
	if err := os.WriteFile(target, []byte("a: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real.yaml", link); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteFile(link, []byte("a: 2\n")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("symlink replaced: %v", err)
	}
	if got, _ := os.ReadFile(target); string(got) != "a: 2\n" {
		t.Errorf("target content %q", got)
	}
	assertNoTemp(t, dir, 2)
}

func TestWriteFileError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "missing-dir", "a.yaml")
	if _, err := WriteFile(path, []byte("a: 1\n")); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
	assertNoTemp(t, dir, 0)
}

func stat(t *testing.T, path string) os.FileInfo {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

func inode(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}

func assertNoTemp(t *testing.T, dir string, want int) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != want {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want %d entries", names, want)
	}
}
