package gitrepo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/go-git/go-billy/v5"
)

// CleanPath checks a slash-separated path taken from a finding, a report or
// a caller and returns it cleaned, relative to the repository root. It
// refuses, with ErrEscapes, absolute paths, paths that leave the root
// through "..", backslashes (a separator on Windows), and any component
// named .git; with ErrInvalidPath, empty paths, "." and NUL bytes.
func CleanPath(name string) (string, error) {
	if name == "" || strings.ContainsRune(name, 0) {
		return "", ErrInvalidPath
	}
	if strings.ContainsRune(name, '\\') || path.IsAbs(name) {
		return "", ErrEscapes
	}
	p := path.Clean(name)
	switch {
	case p == ".":
		return "", ErrInvalidPath
	case p == ".." || strings.HasPrefix(p, "../"):
		return "", ErrEscapes
	}
	for _, part := range strings.Split(p, "/") {
		if strings.EqualFold(part, ".git") {
			return "", ErrEscapes
		}
	}
	return p, nil
}

// cleanPaths checks every name before anything is touched, so a bad path
// leaves the worktree as it was. Names that clean to the same path are
// refused: which content wins would be a guess.
func cleanPaths(names []string) ([]string, error) {
	out := make([]string, len(names))
	seen := make(map[string]string, len(names))
	for i, n := range names {
		p, err := CleanPath(n)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", n, err)
		}
		if other, dup := seen[p]; dup {
			return nil, fmt.Errorf("%q and %q: %w: both name %s", other, n, ErrInvalidPath, p)
		}
		seen[p] = n
		out[i] = p
	}
	return out, nil
}

// checkOnDisk refuses paths whose parent directories include a symbolic
// link (which could point outside the worktree) or a file. When the target
// itself is a symbolic link, it is refused unless linkOK (removing a link
// is safe; writing or reading through it is not). It returns the target's
// Lstat result, nil if it does not exist.
func checkOnDisk(fsys billy.Filesystem, p string, linkOK bool) (os.FileInfo, error) {
	parts := strings.Split(p, "/")
	for i := 1; i < len(parts); i++ {
		dir := strings.Join(parts[:i], "/")
		fi, err := fsys.Lstat(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return nil, fmt.Errorf("%w: %s is a symbolic link", ErrEscapes, dir)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("%s is not a directory", dir)
		}
	}
	fi, err := fsys.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if fi.Mode()&os.ModeSymlink != 0 && !linkOK {
		return nil, fmt.Errorf("%w: %s is a symbolic link", ErrEscapes, p)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory", p)
	}
	return fi, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
