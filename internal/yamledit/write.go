package yamledit

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFile atomically replaces the content of path with data. If the file
// already holds exactly data it does nothing and returns false. Otherwise it
// writes a temporary file in the same directory, fsyncs it, gives it the
// original file's mode (0644 for a new file) and renames it over path, so
// readers see either the old or the new content, never a half-written file.
// A symbolic link is followed: its target is replaced, the link is kept.
func WriteFile(path string, data []byte) (changed bool, err error) {
	target := path
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		target = resolved
	}
	mode := fs.FileMode(0o644)
	cur, err := os.ReadFile(target)
	switch {
	case err == nil:
		if bytes.Equal(cur, data) {
			return false, nil
		}
		fi, err := os.Stat(target)
		if err != nil {
			return false, fmt.Errorf("write %s: %w", path, err)
		}
		mode = fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
	case !errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := replaceFile(target, data, mode); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	return true, nil
}

func replaceFile(target string, data []byte, mode fs.FileMode) (err error) {
	dir := filepath.Dir(target)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".kmend-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename durable; failures are ignored (some platforms
// cannot fsync directories).
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
