package githubfake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/diff"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// The fake keeps no git data in memory: every operation opens the bare
// repository again, so it sees what pushes through a real git server did.

var (
	errNotFound   = errors.New("not found")
	errRefExists  = errors.New("reference already exists")
	errRefChanged = errors.New("reference changed concurrently")
	errMergeConfl = errors.New("merge conflict")
)

type gitRepo struct {
	dir string
	r   *git.Repository
}

// repoDir is where a repository's bare git directory lives.
func (f *Fake) repoDir(owner, name string) string {
	return filepath.Join(f.root, owner, name+".git")
}

func initBare(dir, branch string) (*gitRepo, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, err
	}
	r, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		Bare:        true,
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName(branch)},
	})
	if err != nil {
		return nil, fmt.Errorf("init %s: %w", dir, err)
	}
	return &gitRepo{dir: dir, r: r}, nil
}

func openGit(dir string) (*gitRepo, error) {
	r, err := git.PlainOpen(dir)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	return &gitRepo{dir: dir, r: r}, nil
}

// fileEntry is one non-tree entry of a flattened tree.
type fileEntry struct {
	mode filemode.FileMode
	hash plumbing.Hash
}

func (g *gitRepo) writeBlob(data []byte) (plumbing.Hash, error) {
	obj := g.r.Storer.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(data); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return g.r.Storer.SetEncodedObject(obj)
}

func (g *gitRepo) readBlob(h plumbing.Hash) ([]byte, error) {
	b, err := g.r.BlobObject(h)
	if err != nil {
		return nil, err
	}
	rd, err := b.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

// objectType says what kind of object h is, or errNotFound.
func (g *gitRepo) objectType(h plumbing.Hash) (plumbing.ObjectType, error) {
	obj, err := g.r.Storer.EncodedObject(plumbing.AnyObject, h)
	if err != nil {
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			return plumbing.InvalidObject, errNotFound
		}
		return plumbing.InvalidObject, err
	}
	return obj.Type(), nil
}

// flatten lists every non-tree entry under a tree by its full path.
func (g *gitRepo) flatten(tree plumbing.Hash) (map[string]fileEntry, error) {
	out := map[string]fileEntry{}
	if tree.IsZero() {
		return out, nil
	}
	t, err := g.r.TreeObject(tree)
	if err != nil {
		return nil, err
	}
	var walk func(prefix string, t *object.Tree) error
	walk = func(prefix string, t *object.Tree) error {
		for _, e := range t.Entries {
			p := path.Join(prefix, e.Name)
			if e.Mode == filemode.Dir {
				sub, err := g.r.TreeObject(e.Hash)
				if err != nil {
					return err
				}
				if err := walk(p, sub); err != nil {
					return err
				}
				continue
			}
			out[p] = fileEntry{mode: e.Mode, hash: e.Hash}
		}
		return nil
	}
	return out, walk("", t)
}

// writeTree writes the trees for a flat list of entries and returns the root.
func (g *gitRepo) writeTree(files map[string]fileEntry) (plumbing.Hash, error) {
	type dir struct {
		files map[string]fileEntry
		dirs  map[string]*dir
	}
	newDir := func() *dir { return &dir{files: map[string]fileEntry{}, dirs: map[string]*dir{}} }
	root := newDir()
	for p, e := range files {
		parts := strings.Split(p, "/")
		d := root
		for _, part := range parts[:len(parts)-1] {
			sub, ok := d.dirs[part]
			if !ok {
				sub = newDir()
				d.dirs[part] = sub
			}
			d = sub
		}
		d.files[parts[len(parts)-1]] = e
	}
	var write func(d *dir) (plumbing.Hash, error)
	write = func(d *dir) (plumbing.Hash, error) {
		var entries []object.TreeEntry
		for name, e := range d.files {
			entries = append(entries, object.TreeEntry{Name: name, Mode: e.mode, Hash: e.hash})
		}
		for name, sub := range d.dirs {
			h, err := write(sub)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
		}
		sort.Sort(object.TreeEntrySorter(entries))
		t := &object.Tree{Entries: entries}
		obj := g.r.Storer.NewEncodedObject()
		if err := t.Encode(obj); err != nil {
			return plumbing.ZeroHash, err
		}
		return g.r.Storer.SetEncodedObject(obj)
	}
	return write(root)
}

// writeFiles writes blobs for contents and a tree holding them.
func (g *gitRepo) writeFiles(base map[string]fileEntry, files map[string][]byte) (plumbing.Hash, error) {
	out := make(map[string]fileEntry, len(base)+len(files))
	for p, e := range base {
		out[p] = e
	}
	for p, data := range files {
		p = strings.Trim(path.Clean("/"+p), "/")
		if data == nil {
			delete(out, p)
			continue
		}
		h, err := g.writeBlob(data)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		out[p] = fileEntry{mode: filemode.Regular, hash: h}
	}
	return g.writeTree(out)
}

type signature struct {
	name, email string
	when        time.Time
}

func (g *gitRepo) writeCommit(tree plumbing.Hash, parents []plumbing.Hash, author, committer signature, message, pgp string) (plumbing.Hash, error) {
	c := &object.Commit{
		Author:       object.Signature{Name: author.name, Email: author.email, When: author.when},
		Committer:    object.Signature{Name: committer.name, Email: committer.email, When: committer.when},
		Message:      message,
		TreeHash:     tree,
		ParentHashes: parents,
		PGPSignature: pgp,
	}
	obj := g.r.Storer.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return g.r.Storer.SetEncodedObject(obj)
}

func (g *gitRepo) commit(h plumbing.Hash) (*object.Commit, error) {
	c, err := g.r.CommitObject(h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, errNotFound
	}
	return c, err
}

// ref reads a full reference name ("refs/heads/main"), or errNotFound.
func (g *gitRepo) ref(name string) (plumbing.Hash, error) {
	ref, err := g.r.Storer.Reference(plumbing.ReferenceName(name))
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash, errNotFound
	}
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if ref.Type() == plumbing.SymbolicReference {
		ref, err = g.r.Reference(ref.Name(), true)
		if err != nil {
			return plumbing.ZeroHash, errNotFound
		}
	}
	return ref.Hash(), nil
}

func (g *gitRepo) branch(name string) (plumbing.Hash, error) {
	return g.ref("refs/heads/" + name)
}

// resolve turns a branch, tag, full ref or commit SHA into a commit.
func (g *gitRepo) resolve(rev string) (plumbing.Hash, error) {
	rev = strings.TrimPrefix(rev, "refs/")
	for _, name := range []string{"refs/heads/" + rev, "refs/tags/" + rev, "refs/" + rev} {
		if h, err := g.ref(name); err == nil {
			return g.peel(h)
		}
	}
	if plumbing.IsHash(rev) {
		h := plumbing.NewHash(rev)
		if _, err := g.commit(h); err == nil {
			return h, nil
		}
	}
	return plumbing.ZeroHash, errNotFound
}

// peel follows annotated tags to their commit.
func (g *gitRepo) peel(h plumbing.Hash) (plumbing.Hash, error) {
	for i := 0; i < 10; i++ {
		tag, err := g.r.TagObject(h)
		if err != nil {
			return h, nil
		}
		h = tag.Target
	}
	return h, nil
}

// setRef points name at h, with git's own locking (name.lock, then rename),
// so it cooperates with git receive-pack working on the same repository.
// old is what the ref must hold now: nil for "anything", a zero hash for
// "must not exist".
func (g *gitRepo) setRef(name string, h plumbing.Hash, old *plumbing.Hash) error {
	return g.withRefLock(name, func(refPath string) error {
		cur, err := g.ref(name)
		if err != nil && !errors.Is(err, errNotFound) {
			return err
		}
		if old != nil {
			if old.IsZero() && !errors.Is(err, errNotFound) {
				return errRefExists
			}
			if !old.IsZero() && cur != *old {
				return errRefChanged
			}
		}
		lock := refPath + ".lock"
		if err := os.WriteFile(lock, []byte(h.String()+"\n"), 0o644); err != nil {
			return err
		}
		return os.Rename(lock, refPath)
	})
}

// deleteRef removes name if it holds old (any value when old is nil).
func (g *gitRepo) deleteRef(name string, old *plumbing.Hash) error {
	return g.withRefLock(name, func(refPath string) error {
		cur, err := g.ref(name)
		if err != nil {
			return err
		}
		if old != nil && cur != *old {
			return errRefChanged
		}
		return g.r.Storer.RemoveReference(plumbing.ReferenceName(name))
	})
}

func (g *gitRepo) withRefLock(name string, fn func(refPath string) error) error {
	refPath := filepath.Join(g.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(refPath), 0o755); err != nil {
		return err
	}
	lock := refPath + ".lock"
	var lf *os.File
	deadline := time.Now().Add(5 * time.Second)
	for {
		var err error
		lf, err = os.OpenFile(lock, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			break
		}
		if !os.IsExist(err) || time.Now().After(deadline) {
			return fmt.Errorf("lock %s: %w", name, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	lf.Close()
	err := fn(refPath)
	_ = os.Remove(lock) // already renamed away on success of setRef
	return err
}

func (g *gitRepo) setHead(branch string) error {
	return g.r.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName(branch)))
}

// isAncestor reports whether a is b or one of b's ancestors.
func (g *gitRepo) isAncestor(a, b plumbing.Hash) (bool, error) {
	if a == b {
		return true, nil
	}
	ca, err := g.commit(a)
	if err != nil {
		return false, err
	}
	cb, err := g.commit(b)
	if err != nil {
		return false, err
	}
	return ca.IsAncestor(cb)
}

func (g *gitRepo) mergeBase(a, b plumbing.Hash) (plumbing.Hash, error) {
	ca, err := g.commit(a)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	cb, err := g.commit(b)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	bases, err := ca.MergeBase(cb)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if len(bases) == 0 {
		return plumbing.ZeroHash, nil
	}
	return bases[0].Hash, nil
}

// commitsBetween lists the commits reachable from head and not from base,
// oldest first (git log --reverse base..head).
func (g *gitRepo) commitsBetween(base, head plumbing.Hash) ([]*object.Commit, error) {
	seen := map[plumbing.Hash]bool{}
	if !base.IsZero() {
		queue := []plumbing.Hash{base}
		for len(queue) > 0 {
			h := queue[0]
			queue = queue[1:]
			if seen[h] {
				continue
			}
			seen[h] = true
			c, err := g.commit(h)
			if err != nil {
				return nil, err
			}
			queue = append(queue, c.ParentHashes...)
		}
	}
	var out []*object.Commit
	visited := map[plumbing.Hash]bool{}
	queue := []plumbing.Hash{head}
	for len(queue) > 0 {
		h := queue[0]
		queue = queue[1:]
		if seen[h] || visited[h] {
			continue
		}
		visited[h] = true
		c, err := g.commit(h)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		queue = append(queue, c.ParentHashes...)
	}
	// BFS from head finds children before parents; reverse, then order by
	// committer time so the list reads oldest first.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Committer.When.Before(out[j].Committer.When) })
	return out, nil
}

// merge3 merges the trees of ours and theirs against their merge base, file
// by file, and line by line for a text file changed on both sides. What
// cannot be merged is returned as conflicts.
func (g *gitRepo) merge3(ours, theirs plumbing.Hash) (plumbing.Hash, []string, error) {
	baseC, err := g.mergeBase(ours, theirs)
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	tree := func(c plumbing.Hash) (map[string]fileEntry, error) {
		if c.IsZero() {
			return map[string]fileEntry{}, nil
		}
		co, err := g.commit(c)
		if err != nil {
			return nil, err
		}
		return g.flatten(co.TreeHash)
	}
	b, err := tree(baseC)
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	o, err := tree(ours)
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	t, err := tree(theirs)
	if err != nil {
		return plumbing.ZeroHash, nil, err
	}
	paths := map[string]bool{}
	for _, m := range []map[string]fileEntry{b, o, t} {
		for p := range m {
			paths[p] = true
		}
	}
	out := map[string]fileEntry{}
	var conflicts []string
	for p := range paths {
		be, inB := b[p]
		oe, inO := o[p]
		te, inT := t[p]
		same := func(x fileEntry, inX bool, y fileEntry, inY bool) bool { return inX == inY && x == y }
		switch {
		case same(oe, inO, te, inT):
			if inO {
				out[p] = oe
			}
		case same(oe, inO, be, inB):
			if inT {
				out[p] = te
			}
		case same(te, inT, be, inB):
			if inO {
				out[p] = oe
			}
		case inO && inT && oe.mode == te.mode:
			e, ok, err := g.mergeBlobs(be, inB, oe, te)
			if err != nil {
				return plumbing.ZeroHash, nil, err
			}
			if !ok {
				conflicts = append(conflicts, p)
				continue
			}
			out[p] = e
		default:
			conflicts = append(conflicts, p)
		}
	}
	if len(conflicts) > 0 {
		sort.Strings(conflicts)
		return plumbing.ZeroHash, conflicts, nil
	}
	h, err := g.writeTree(out)
	return h, nil, err
}

// mergeBlobs merges two versions of a file line by line against the base
// version (empty when the file is new on both sides).
func (g *gitRepo) mergeBlobs(base fileEntry, inBase bool, ours, theirs fileEntry) (fileEntry, bool, error) {
	if ours.mode != filemode.Regular && ours.mode != filemode.Executable {
		return fileEntry{}, false, nil
	}
	var b []byte
	if inBase {
		var err error
		if b, err = g.readBlob(base.hash); err != nil {
			return fileEntry{}, false, err
		}
	}
	o, err := g.readBlob(ours.hash)
	if err != nil {
		return fileEntry{}, false, err
	}
	t, err := g.readBlob(theirs.hash)
	if err != nil {
		return fileEntry{}, false, err
	}
	merged, ok := merge3Text(b, o, t)
	if !ok {
		return fileEntry{}, false, nil
	}
	h, err := g.writeBlob(merged)
	if err != nil {
		return fileEntry{}, false, err
	}
	return fileEntry{mode: ours.mode, hash: h}, true, nil
}

// fileChange is one file of a diff, as GitHub's diff-entry shows it.
type fileChange struct {
	filename, previous string
	status             string
	sha                string
	additions          int
	deletions          int
	patch              string
	binary             bool
}

// diffCommits compares the trees of two commits (from may be zero).
func (g *gitRepo) diffCommits(from, to plumbing.Hash) ([]fileChange, error) {
	treeOf := func(h plumbing.Hash) (*object.Tree, error) {
		if h.IsZero() {
			return &object.Tree{}, nil
		}
		c, err := g.commit(h)
		if err != nil {
			return nil, err
		}
		return c.Tree()
	}
	a, err := treeOf(from)
	if err != nil {
		return nil, err
	}
	b, err := treeOf(to)
	if err != nil {
		return nil, err
	}
	changes, err := object.DiffTreeWithOptions(context.Background(), a, b, object.DefaultDiffTreeOptions)
	if err != nil {
		return nil, err
	}
	var out []fileChange
	for _, ch := range changes {
		fc := fileChange{}
		switch {
		case ch.From.Name == "":
			fc.status, fc.filename, fc.sha = "added", ch.To.Name, ch.To.TreeEntry.Hash.String()
		case ch.To.Name == "":
			fc.status, fc.filename, fc.sha = "removed", ch.From.Name, ch.From.TreeEntry.Hash.String()
		case ch.From.Name != ch.To.Name:
			fc.status, fc.filename, fc.previous, fc.sha = "renamed", ch.To.Name, ch.From.Name, ch.To.TreeEntry.Hash.String()
		default:
			fc.status, fc.filename, fc.sha = "modified", ch.To.Name, ch.To.TreeEntry.Hash.String()
		}
		p, err := ch.Patch()
		if err != nil {
			return nil, err
		}
		for _, fp := range p.FilePatches() {
			if fp.IsBinary() {
				fc.binary = true
				continue
			}
			for _, chunk := range fp.Chunks() {
				n := strings.Count(chunk.Content(), "\n")
				if !strings.HasSuffix(chunk.Content(), "\n") && chunk.Content() != "" {
					n++
				}
				switch chunk.Type() {
				case diff.Add:
					fc.additions += n
				case diff.Delete:
					fc.deletions += n
				}
			}
			fc.patch = hunks(fp)
		}
		out = append(out, fc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].filename < out[j].filename })
	return out, nil
}

type onePatch struct{ fp diff.FilePatch }

func (p onePatch) FilePatches() []diff.FilePatch { return []diff.FilePatch{p.fp} }
func (p onePatch) Message() string               { return "" }

// hunks renders a file patch as GitHub's "patch" field: the unified diff's
// hunks without the file header lines.
func hunks(fp diff.FilePatch) string {
	var buf bytes.Buffer
	if err := diff.NewUnifiedEncoder(&buf, 3).Encode(onePatch{fp}); err != nil {
		return ""
	}
	s := buf.String()
	i := strings.Index(s, "@@")
	if i < 0 {
		return ""
	}
	return strings.TrimSuffix(s[i:], "\n")
}

// readFile reads a file at a commit.
func (g *gitRepo) readFile(commit plumbing.Hash, p string) ([]byte, fileEntry, error) {
	c, err := g.commit(commit)
	if err != nil {
		return nil, fileEntry{}, err
	}
	t, err := c.Tree()
	if err != nil {
		return nil, fileEntry{}, err
	}
	e, err := t.FindEntry(p)
	if err != nil {
		return nil, fileEntry{}, errNotFound
	}
	if e.Mode == filemode.Dir {
		return nil, fileEntry{mode: e.Mode, hash: e.Hash}, nil
	}
	data, err := g.readBlob(e.Hash)
	return data, fileEntry{mode: e.Mode, hash: e.Hash}, err
}
