package helm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	"helm.sh/helm/v4/pkg/ignore"
)

// Limits on what is read: one file, and one chart with its subcharts.
const (
	maxFileBytes  = 8 << 20
	maxChartBytes = 64 << 20
)

// repo is a repository opened for reading. Every file is read through
// os.Root, so neither ".." nor a symbolic link can lead out of it.
// Overrides replace files by content not yet written (to verify edits).
type repo struct {
	dir       string
	abs       string
	root      *os.Root
	overrides map[string][]byte
}

func openRepo(dir string) (*repo, error) {
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", dir, err)
	}
	return &repo{dir: dir, abs: abs, root: root}, nil
}

func (r *repo) close() { r.root.Close() }

// withOverrides returns a view of the repository where the given files
// (repository-relative paths) have the given content.
func (r *repo) withOverrides(files map[string][]byte) *repo {
	c := *r
	c.overrides = files
	return &c
}

// rel turns p, a path relative to the repository (or an absolute path
// inside it), into a clean slash path relative to the repository ("." for
// the root). Paths that leave the repository give ErrEscapes.
func (r *repo) rel(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("empty path")
	}
	if strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("%q: %w", p, ErrEscapes)
	}
	native := filepath.FromSlash(p)
	if filepath.IsAbs(native) {
		rel, err := filepath.Rel(r.abs, native)
		if err != nil {
			return "", fmt.Errorf("%s: %w", p, ErrEscapes)
		}
		native = rel
	}
	native = filepath.Clean(native)
	if native == "." {
		return ".", nil
	}
	if !filepath.IsLocal(native) {
		return "", fmt.Errorf("%s: %w", p, ErrEscapes)
	}
	return filepath.ToSlash(native), nil
}

// join is rel for a path written relative to dir (a clean repository
// path), as Argo CD writes valueFiles relative to the source's path.
func (r *repo) join(dir, p string) (string, error) {
	if filepath.IsAbs(filepath.FromSlash(p)) || strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("%s: absolute: %w", p, ErrEscapes)
	}
	return r.rel(path.Join(dir, p))
}

// osPath is the path of a repository file for the operating system.
func (r *repo) osPath(rel string) string { return filepath.Join(r.dir, filepath.FromSlash(rel)) }

// readFile reads a repository file (a path from rel).
func (r *repo) readFile(rel string) ([]byte, error) {
	if data, ok := r.overrides[rel]; ok {
		return data, nil
	}
	f, err := r.root.Open(filepath.FromSlash(rel))
	if err != nil {
		return nil, rootError(rel, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", rel, maxFileBytes)
	}
	return data, nil
}

// rootError reports os.Root's refusal of a path that leaves the root as
// ErrEscapes.
func rootError(rel string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && !errors.Is(err, fs.ErrNotExist) && strings.Contains(pe.Err.Error(), "escapes") {
		return fmt.Errorf("%s: %w", rel, ErrEscapes)
	}
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", rel, pe.Err)
	}
	return fmt.Errorf("%s: %w", rel, err)
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// chartFiles reads a chart directory as Helm's loader.LoadDir does
// (.helmignore and its defaults honoured, byte order marks dropped), but
// through os.Root: symbolic links are followed only inside the repository,
// and a link to a directory is refused.
func (r *repo) chartFiles(dir string) ([]*archive.BufferedFile, error) {
	rules := ignore.Empty()
	if data, err := r.readFile(path.Join(dir, ignore.HelmIgnore)); err == nil {
		if rules, err = ignore.Parse(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("%s: %w", path.Join(dir, ignore.HelmIgnore), err)
		}
	}
	rules.AddDefaults()
	fsys := r.root.FS()
	var files []*archive.BufferedFile
	total := 0
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return rootError(p, err)
		}
		n := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		if dir == "." {
			n = p
		}
		if n == "" || n == "." {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return rootError(p, err)
		}
		if d.Type()&fs.ModeSymlink != 0 {
			if fi, err = fs.Stat(fsys, p); err != nil {
				return rootError(p, err)
			}
			if fi.IsDir() {
				return fmt.Errorf("%s: a symbolic link to a directory (not followed)", p)
			}
		}
		if d.IsDir() {
			if rules.Ignore(n, fi) {
				return fs.SkipDir
			}
			return nil
		}
		if rules.Ignore(n, fi) {
			return nil
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s: not a regular file", p)
		}
		data, err := r.readFile(p)
		if err != nil {
			return err
		}
		if total += len(data); total > maxChartBytes {
			return fmt.Errorf("%s: the chart is larger than %d bytes", dir, maxChartBytes)
		}
		files = append(files, &archive.BufferedFile{Name: n, Data: bytes.TrimPrefix(data, utf8BOM)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(files, func(f *archive.BufferedFile) bool { return f.Name == "Chart.yaml" }) {
		return nil, fmt.Errorf("%s: no Chart.yaml", dir)
	}
	return files, nil
}

// Charts lists the chart directories of a repository: the directories
// holding a Chart.yaml, relative to repo with forward slashes, sorted.
// Hidden directories are skipped, and so is the charts/ directory of a
// chart (its subcharts are rendered with it, not on their own). Symbolic
// links are not followed.
func Charts(repo string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(repo, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			if d.Name() == "Chart.yaml" {
				rel, err := filepath.Rel(repo, filepath.Dir(p))
				if err != nil {
					return err
				}
				out = append(out, filepath.ToSlash(rel))
			}
			return nil
		}
		if p != repo && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if d.Name() == "charts" && p != repo {
			if _, err := os.Stat(filepath.Join(filepath.Dir(p), "Chart.yaml")); err == nil {
				return filepath.SkipDir
			}
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}
