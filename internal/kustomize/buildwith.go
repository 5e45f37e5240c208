package kustomize

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/manifest"
)

// What Rendering.Reads records for a path that was looked for but not read.
const (
	// ReadAbsent: the build looked for the path and it did not exist.
	ReadAbsent = ""
	// ReadExists: the build only asked whether the path exists (it did).
	ReadExists = "exists"
)

// BuildOptions tune BuildWith.
type BuildOptions struct {
	// Files replaces, for this build only, the content of repository files
	// (keys are repository-relative paths with forward slashes), or adds
	// files that do not exist on disk. Nothing is written: this is how a
	// change is rendered before it is accepted.
	Files map[string][]byte
}

// Rendering is what one build gave and what it depended on.
type Rendering struct {
	// Root is the kustomization directory, relative to the repository.
	Root    string
	Objects []Object
	// Reads maps every repository path the build read or looked for
	// (relative, forward slashes) to the SHA-256 (hex) of the content it
	// read, ReadExists for a path it only found, or ReadAbsent for a path
	// that did not exist. A build gives the same result as long as every
	// path still reads the same (see Hash): that is what a render cache
	// keys on.
	Reads map[string]string
}

// Hash returns what Rendering.Reads would record for content read.
func Hash(content []byte) string {
	h := sha256.Sum256(content)
	return hex.EncodeToString(h[:])
}

// BuildWith renders the kustomization at root like Build, with the
// repository's files as opts.Files changes them, and records the paths the
// build read. The Rendering is returned with its Reads also when the build
// fails, so that a caller knows which files could repair it.
func BuildWith(repo, root string, opts BuildOptions) (*Rendering, error) {
	r := &Rendering{Root: filepath.ToSlash(root), Reads: map[string]string{}}
	absRepo, err := filepath.Abs(repo)
	if err != nil {
		return r, err
	}
	dir, err := within(absRepo, root)
	if err != nil {
		return r, err
	}
	// kustomize resolves symbolic links in the directories it loads from:
	// the view keys files by the repository's real path.
	realRepo, err := filepath.EvalSymlinks(absRepo)
	if err != nil {
		return r, err
	}
	view := &viewFS{FileSystem: filesys.MakeFsOnDisk(), repo: realRepo, files: map[string][]byte{}, reads: r.Reads}
	for p, b := range opts.Files {
		view.files[filepath.Join(realRepo, filepath.FromSlash(p))] = b
	}
	kopts := krusty.MakeDefaultOptions()
	kopts.LoadRestrictions = types.LoadRestrictionsNone // confined to the repository by the filesystem below
	guard := &escapeFS{FileSystem: &trackingFS{FileSystem: view, repo: absRepo, root: dir}}
	m, err := krusty.MakeKustomizer(kopts).Run(guard, dir)
	if err != nil {
		if guard.escaped.Load() {
			err = escapeError{err}
		}
		return r, fmt.Errorf("kustomize build %s: %w", root, err)
	}
	for _, res := range m.Resources() {
		n, err := yaml.Parse(res.MustYaml())
		if err != nil {
			return r, fmt.Errorf("kustomize build %s: %w", root, err)
		}
		o := Object{Root: r.Root, Node: n}
		if err := o.readAnnotations(absRepo, dir); err != nil {
			return r, fmt.Errorf("kustomize build %s: %w", root, err)
		}
		ref, ok := manifest.ObjectRefOf(n)
		if !ok {
			continue
		}
		o.Ref = ref
		r.Objects = append(r.Objects, o)
	}
	return r, nil
}

// escapeFS notes whether the build tried to read a file outside the
// repository: kustomize reports the refusal as text, and the error of the
// build should still wrap ErrEscapes.
type escapeFS struct {
	filesys.FileSystem
	escaped atomic.Bool
}

func (e *escapeFS) ReadFile(p string) ([]byte, error) {
	b, err := e.FileSystem.ReadFile(p)
	if errors.Is(err, ErrEscapes) {
		e.escaped.Store(true)
	}
	return b, err
}

// escapeError is a build error that also wraps ErrEscapes.
type escapeError struct{ error }

func (e escapeError) Unwrap() []error { return []error{e.error, ErrEscapes} }

// viewFS is the disk with some files replaced or added, recording what
// the build reads.
type viewFS struct {
	filesys.FileSystem
	repo  string
	files map[string][]byte // absolute path → content

	mu    sync.Mutex
	reads map[string]string
}

// record notes what the build saw at p; a read content beats a probe.
func (v *viewFS) record(p, what string) {
	rel, err := filepath.Rel(v.repo, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return
	}
	rel = filepath.ToSlash(rel)
	v.mu.Lock()
	defer v.mu.Unlock()
	if prev, ok := v.reads[rel]; ok && prev != ReadAbsent && prev != ReadExists {
		return
	}
	v.reads[rel] = what
}

func (v *viewFS) ReadFile(p string) ([]byte, error) {
	p = filepath.Clean(p)
	if b, ok := v.files[p]; ok {
		v.record(p, Hash(b))
		return b, nil
	}
	b, err := v.FileSystem.ReadFile(p)
	switch {
	case err == nil:
		v.record(p, Hash(b))
	case errors.Is(err, fs.ErrNotExist):
		v.record(p, ReadAbsent)
	}
	return b, err
}

func (v *viewFS) Exists(p string) bool {
	p = filepath.Clean(p)
	if _, ok := v.files[p]; ok {
		v.record(p, ReadExists)
		return true
	}
	ok := v.FileSystem.Exists(p)
	if ok {
		v.record(p, ReadExists)
	} else {
		v.record(p, ReadAbsent)
	}
	return ok
}

func (v *viewFS) IsDir(p string) bool {
	if _, ok := v.files[filepath.Clean(p)]; ok {
		return false
	}
	return v.FileSystem.IsDir(p)
}

// CleanedAbs knows the added files, which the disk does not have.
func (v *viewFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", "", err
	}
	if _, ok := v.files[abs]; ok {
		if _, err := os.Lstat(abs); errors.Is(err, fs.ErrNotExist) {
			d, _, err := v.FileSystem.CleanedAbs(filepath.Dir(abs))
			return d, filepath.Base(abs), err
		}
	}
	return v.FileSystem.CleanedAbs(p)
}
