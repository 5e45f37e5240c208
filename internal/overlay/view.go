package overlay

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/kmend/kmend/internal/kustomize"
)

// ErrEscapes is wrapped by the errors of paths that would leave the
// repository: absolute paths, ".." above its root, symbolic links pointing
// out of it.
var ErrEscapes = kustomize.ErrEscapes

// maxFileBytes bounds every file kmend reads from the repository here, as
// yamledit does by default.
const maxFileBytes = 8 << 20

// view is the repository as a plan sees it: the files on disk, with the
// changes accepted so far laid over them. Nothing is written.
type view struct {
	disk  *disk
	files map[string][]byte // repository-relative path → new content
}

func (v *view) with(changes map[string][]byte) *view {
	files := make(map[string][]byte, len(v.files)+len(changes))
	for p, b := range v.files {
		files[p] = b
	}
	for p, b := range changes {
		files[p] = b
	}
	return &view{disk: v.disk, files: files}
}

// read returns a file's content as the view has it.
func (v *view) read(rel string) ([]byte, error) {
	if b, ok := v.files[rel]; ok {
		return b, nil
	}
	return v.disk.read(rel)
}

// status says what kustomize would record for a path now (see
// kustomize.Rendering.Reads), given what it recorded before.
func (v *view) status(rel, was string) string {
	if b, ok := v.files[rel]; ok {
		if was == kustomize.ReadExists {
			return kustomize.ReadExists
		}
		return kustomize.Hash(b)
	}
	return v.disk.status(rel, was)
}

// disk reads repository files once per plan, confined to the repository.
type disk struct {
	repo string // absolute, symbolic links resolved

	mu    sync.Mutex
	cache map[string]diskFile
}

type diskFile struct {
	data   []byte
	hash   string
	exists bool
	err    error
}

func newDisk(repo string) (*disk, error) {
	abs, err := filepath.Abs(repo)
	if err != nil {
		return nil, err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, err
	}
	return &disk{repo: real, cache: map[string]diskFile{}}, nil
}

func (d *disk) get(rel string) diskFile {
	d.mu.Lock()
	f, ok := d.cache[rel]
	d.mu.Unlock()
	if ok {
		return f
	}
	f = d.load(rel)
	d.mu.Lock()
	d.cache[rel] = f
	d.mu.Unlock()
	return f
}

func (d *disk) load(rel string) diskFile {
	p, err := d.abs(rel)
	if err != nil {
		return diskFile{err: err}
	}
	fi, err := os.Stat(p)
	if err != nil {
		return diskFile{err: err}
	}
	if fi.IsDir() {
		return diskFile{exists: true, err: fmt.Errorf("%s: is a directory", rel)}
	}
	if fi.Size() > maxFileBytes {
		return diskFile{exists: true, err: fmt.Errorf("%s: %d bytes, over the limit of %d", rel, fi.Size(), maxFileBytes)}
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return diskFile{exists: true, err: err}
	}
	return diskFile{data: b, hash: kustomize.Hash(b), exists: true}
}

func (d *disk) read(rel string) ([]byte, error) {
	f := d.get(rel)
	return f.data, f.err
}

func (d *disk) status(rel, was string) string {
	f := d.get(rel)
	switch {
	case was == kustomize.ReadExists && f.exists:
		return kustomize.ReadExists
	case f.err == nil:
		return f.hash
	case f.exists:
		return kustomize.ReadExists
	}
	return kustomize.ReadAbsent
}

// abs returns the absolute path of a repository-relative path, refusing
// one that leaves the repository, symbolic links included.
func (d *disk) abs(rel string) (string, error) {
	if err := checkRel(rel); err != nil {
		return "", err
	}
	p := filepath.Join(d.repo, filepath.FromSlash(rel))
	real, err := filepath.EvalSymlinks(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// A file to be created: its directory must be inside.
		dir, derr := filepath.EvalSymlinks(filepath.Dir(p))
		if derr != nil {
			return p, err
		}
		if !inside(d.repo, dir) {
			return "", fmt.Errorf("%s: %w", rel, ErrEscapes)
		}
		return p, nil
	case err != nil:
		return "", err
	}
	if !inside(d.repo, real) {
		return "", fmt.Errorf("%s: %w (symbolic link)", rel, ErrEscapes)
	}
	return p, nil
}

func inside(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// checkRel refuses anything but a clean relative slash path inside the
// repository.
func checkRel(rel string) error {
	if rel == "" || strings.ContainsAny(rel, "\x00\\") || path.IsAbs(rel) || filepath.IsAbs(rel) ||
		path.Clean(rel) != rel || rel == ".." || strings.HasPrefix(rel, "../") {
		return fmt.Errorf("%q: %w", rel, ErrEscapes)
	}
	return nil
}

// join joins p, a path written in the kustomization in directory dir, to
// dir, refusing results that leave the repository.
func join(dir, p string) (string, error) {
	if p == "" || strings.ContainsAny(p, "\x00\\") || path.IsAbs(p) || filepath.IsAbs(p) ||
		(len(p) >= 2 && p[1] == ':') {
		return "", fmt.Errorf("%s: %q: %w", orDot(dir), p, ErrEscapes)
	}
	j := path.Join(dir, p)
	if j == ".." || strings.HasPrefix(j, "../") {
		return "", fmt.Errorf("%s: %q: %w", orDot(dir), p, ErrEscapes)
	}
	return j, nil
}

func orDot(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}
