package gitrepo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/kmend/kmend/internal/gitrepo"
	"github.com/kmend/kmend/internal/gittest"
)

// bareData is GitData written by hand over the test server's bare
// repositories: real git objects, stored with go-git, as GitHub would
// create them. It counts calls and is as strict as GitHub where it
// matters (no ref created twice, missing objects refused, fast-forward
// unless forced).
type bareData struct {
	s     *gittest.Server
	mu    sync.Mutex
	calls map[string]int
}

func newBareData(s *gittest.Server) *bareData {
	return &bareData{s: s, calls: map[string]int{}}
}

func (d *bareData) count(op string) {
	d.mu.Lock()
	d.calls[op]++
	d.mu.Unlock()
}

func (d *bareData) total() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, c := range d.calls {
		n += c
	}
	return n
}

func (d *bareData) called(op string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls[op]
}

func (d *bareData) open(owner, repo string) (*git.Repository, error) {
	return git.PlainOpen(d.s.RepoPath(owner, repo))
}

func (d *bareData) GetRef(_ context.Context, owner, repo, ref string) (string, error) {
	d.count("GetRef")
	r, err := d.open(owner, repo)
	if err != nil {
		return "", err
	}
	got, err := r.Reference(plumbing.ReferenceName(ref), true)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return "", fmt.Errorf("%s: %w", ref, gitrepo.ErrRefNotFound)
	}
	if err != nil {
		return "", err
	}
	return got.Hash().String(), nil
}

func (d *bareData) GetCommit(_ context.Context, owner, repo, sha string) (gitrepo.Commit, error) {
	d.count("GetCommit")
	r, err := d.open(owner, repo)
	if err != nil {
		return gitrepo.Commit{}, err
	}
	c, err := r.CommitObject(plumbing.NewHash(sha))
	if err != nil {
		return gitrepo.Commit{}, fmt.Errorf("commit %s: %w", sha, gitrepo.ErrRefNotFound)
	}
	out := gitrepo.Commit{SHA: c.Hash.String(), Tree: c.TreeHash.String(), Message: c.Message}
	for _, p := range c.ParentHashes {
		out.Parents = append(out.Parents, p.String())
	}
	return out, nil
}

func (d *bareData) CreateBlob(_ context.Context, owner, repo string, content []byte) (string, error) {
	d.count("CreateBlob")
	r, err := d.open(owner, repo)
	if err != nil {
		return "", err
	}
	h, err := gittest.WriteBlob(r.Storer, content)
	return h.String(), err
}

func (d *bareData) CreateTree(_ context.Context, owner, repo, baseTree string, entries []gitrepo.TreeEntry) (string, error) {
	d.count("CreateTree")
	r, err := d.open(owner, repo)
	if err != nil {
		return "", err
	}
	files := map[string]gittest.TreeFile{}
	if baseTree != "" {
		tree, err := r.TreeObject(plumbing.NewHash(baseTree))
		if err != nil {
			return "", fmt.Errorf("base_tree %s is not a tree: %w", baseTree, err)
		}
		err = tree.Files().ForEach(func(f *object.File) error {
			files[f.Name] = gittest.TreeFile{Mode: f.Mode, Hash: f.Hash}
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	for _, e := range entries {
		if e.SHA == "" {
			if _, ok := files[e.Path]; !ok {
				return "", fmt.Errorf("delete %s: not in the base tree", e.Path)
			}
			delete(files, e.Path)
			continue
		}
		mode, err := filemode.New(e.Mode)
		if err != nil {
			return "", err
		}
		h := plumbing.NewHash(e.SHA)
		if _, err := r.BlobObject(h); err != nil {
			return "", fmt.Errorf("blob %s: %w", e.SHA, err)
		}
		files[e.Path] = gittest.TreeFile{Mode: mode, Hash: h}
	}
	h, err := gittest.WriteTreeFiles(r.Storer, files)
	return h.String(), err
}

// apiAuthor is who GitHub records for an App's API commit.
var apiAuthor = object.Signature{Name: "kmend[bot]", Email: "4242+kmend[bot]@users.noreply.github.com"}

func (d *bareData) CreateCommit(_ context.Context, owner, repo string, c gitrepo.NewCommit) (string, error) {
	d.count("CreateCommit")
	r, err := d.open(owner, repo)
	if err != nil {
		return "", err
	}
	if _, err := r.TreeObject(plumbing.NewHash(c.Tree)); err != nil {
		return "", fmt.Errorf("tree %s: %w", c.Tree, err)
	}
	sig := apiAuthor
	sig.When = time.Now()
	commit := &object.Commit{Author: sig, Committer: sig, Message: c.Message, TreeHash: plumbing.NewHash(c.Tree)}
	for _, p := range c.Parents {
		if _, err := r.CommitObject(plumbing.NewHash(p)); err != nil {
			return "", fmt.Errorf("parent %s: %w", p, err)
		}
		commit.ParentHashes = append(commit.ParentHashes, plumbing.NewHash(p))
	}
	obj := r.Storer.NewEncodedObject()
	if err := commit.Encode(obj); err != nil {
		return "", err
	}
	h, err := r.Storer.SetEncodedObject(obj)
	return h.String(), err
}

func (d *bareData) CreateRef(_ context.Context, owner, repo, ref, sha string) error {
	d.count("CreateRef")
	r, err := d.open(owner, repo)
	if err != nil {
		return err
	}
	if _, err := r.Reference(plumbing.ReferenceName(ref), false); err == nil {
		return fmt.Errorf("%s: Reference already exists", ref)
	}
	if _, err := r.CommitObject(plumbing.NewHash(sha)); err != nil {
		return err
	}
	return r.Storer.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(ref), plumbing.NewHash(sha)))
}

func (d *bareData) UpdateRef(_ context.Context, owner, repo, ref, sha string, force bool) error {
	d.count("UpdateRef")
	r, err := d.open(owner, repo)
	if err != nil {
		return err
	}
	old, err := r.Reference(plumbing.ReferenceName(ref), true)
	if err != nil {
		return fmt.Errorf("%s: %w", ref, gitrepo.ErrRefNotFound)
	}
	c, err := r.CommitObject(plumbing.NewHash(sha))
	if err != nil {
		return err
	}
	if !force {
		o, err := r.CommitObject(old.Hash())
		if err != nil {
			return err
		}
		if ok, err := o.IsAncestor(c); err != nil || !ok {
			return fmt.Errorf("%s: Update is not a fast forward", ref)
		}
	}
	return r.Storer.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(ref), c.Hash))
}

func TestCommitViaAPI(t *testing.T) {
	files := manifests(60)
	s, base := newServer(t, files)
	api := newBareData(s.Server)
	ctx := context.Background()
	gone := "apps/team03/app0003/deployment.yaml"
	opts := gitrepo.CommitViaAPIOptions{
		Owner: owner, Repo: name, Branch: branch, BaseSHA: base,
		Message: "kmend: fix KM-002 in payments",
		Files:   changes(),
		Deletes: []string{gone},
	}
	res, err := gitrepo.CommitViaAPI(ctx, api, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Updated {
		t.Fatalf("first API commit: %+v", res)
	}
	if got, _ := s.Head(owner, name, branch); got != res.SHA {
		t.Fatalf("branch = %s, want %s", got, res.SHA)
	}
	if got, _ := s.Head(owner, name, "main"); got != base {
		t.Fatalf("main moved to %s", got)
	}
	if n := api.called("CreateBlob"); n != len(opts.Files) {
		t.Fatalf("%d blobs created, want %d", n, len(opts.Files))
	}
	if _, err := gittestGit(s.RepoPath(owner, name), "fsck", "--strict"); err != nil {
		t.Fatal(err)
	}
	out, err := gittestGit(s.RepoPath(owner, name), "log", "-1", "--format=%P|%s", branch)
	if err != nil || out != base+"|"+opts.Message {
		t.Fatalf("commit = %q, %v; want parent %s and the message", out, err, base)
	}

	// Clone the branch and read it back.
	r := clone(t, s, gitrepo.CloneOptions{Branch: branch})
	for p, want := range opts.Files {
		got, err := r.ReadFile(p)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s = %q, %v; want %q", p, got, err, want)
		}
	}
	if _, err := r.ReadFile(gone); err == nil {
		t.Fatalf("%s was not deleted", gone)
	}
	p := "apps/team04/app0004/deployment.yaml"
	if got, err := r.ReadFile(p); err != nil || !bytes.Equal(got, files[p]) {
		t.Fatalf("untouched %s = %q, %v", p, got, err)
	}

	// The same change again: no new commit, the branch stays.
	commits := api.called("CreateCommit")
	again, err := gitrepo.CommitViaAPI(ctx, api, opts)
	if err != nil {
		t.Fatal(err)
	}
	if again.SHA != res.SHA || again.Updated {
		t.Fatalf("rerun = %+v, want %s not updated", again, res.SHA)
	}
	if api.called("CreateCommit") != commits || api.called("UpdateRef") != 0 {
		t.Fatalf("rerun made a commit (%d) or moved the ref (%d)", api.called("CreateCommit")-commits, api.called("UpdateRef"))
	}

	// A different change: a new commit on the same base, force-updated.
	opts.Files = map[string][]byte{"apps/new/kustomization.yaml": []byte("resources: [x.yaml]\n")}
	opts.Deletes = nil
	next, err := gitrepo.CommitViaAPI(ctx, api, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !next.Updated || next.SHA == res.SHA {
		t.Fatalf("changed rerun = %+v", next)
	}
	if got, _ := s.Head(owner, name, branch); got != next.SHA {
		t.Fatalf("branch = %s, want %s", got, next.SHA)
	}
	if api.called("UpdateRef") != 1 {
		t.Fatalf("UpdateRef called %d times, want 1", api.called("UpdateRef"))
	}
	out, _ = gittestGit(s.RepoPath(owner, name), "log", "-1", "--format=%P", branch)
	if out != base {
		t.Fatalf("rebuilt commit's parent = %s, want the base %s", out, base)
	}
	// The branch was rebuilt from the base: the first change is gone.
	if _, err := s.ReadFile(owner, name, branch, "apps/team01/app0001/deployment.yaml"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ReadFile(owner, name, branch, "apps/team01/app0001/deployment.yaml"); !bytes.Equal(got, files["apps/team01/app0001/deployment.yaml"]) {
		t.Fatalf("rebuilt branch kept the old change: %q", got)
	}
}

func TestCommitViaAPIRefusals(t *testing.T) {
	files := manifests(10)
	s, base := newServer(t, files)
	ctx := context.Background()
	good := gitrepo.CommitViaAPIOptions{
		Owner: owner, Repo: name, Branch: branch, BaseSHA: base, Message: "m",
		Files: map[string][]byte{"a.yaml": []byte("a\n")},
	}
	cases := []struct {
		name string
		edit func(o *gitrepo.CommitViaAPIOptions)
		want error
	}{
		{"default branch", func(o *gitrepo.CommitViaAPIOptions) { o.Branch, o.DefaultBranch = "main", "main" }, gitrepo.ErrProtectedBranch},
		{"protected pattern", func(o *gitrepo.CommitViaAPIOptions) {
			o.Branch, o.ProtectedBranches = "release/2", []string{"release/*"}
		}, gitrepo.ErrProtectedBranch},
		{"bad branch", func(o *gitrepo.CommitViaAPIOptions) { o.Branch = "a..b" }, gitrepo.ErrInvalidBranch},
		{"escaping file", func(o *gitrepo.CommitViaAPIOptions) { o.Files = map[string][]byte{"../x": nil} }, gitrepo.ErrEscapes},
		{"escaping delete", func(o *gitrepo.CommitViaAPIOptions) { o.Deletes = []string{".git/config"} }, gitrepo.ErrEscapes},
		{"write and delete", func(o *gitrepo.CommitViaAPIOptions) { o.Deletes = []string{"./a.yaml"} }, gitrepo.ErrInvalidPath},
		{"nothing", func(o *gitrepo.CommitViaAPIOptions) { o.Files = nil }, gitrepo.ErrNothingToCommit},
		{"bad base", func(o *gitrepo.CommitViaAPIOptions) { o.BaseSHA = "main" }, nil},
		{"no message", func(o *gitrepo.CommitViaAPIOptions) { o.Message = "\n" }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			api := newBareData(s.Server)
			o := good
			c.edit(&o)
			_, err := gitrepo.CommitViaAPI(ctx, api, o)
			if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			if n := api.total(); n != 0 {
				t.Fatalf("a refused API commit made %d calls", n)
			}
		})
	}

	// Files identical to the base: the tree does not change, no commit.
	api := newBareData(s.Server)
	o := good
	p := "apps/team01/app0001/deployment.yaml"
	o.Files = map[string][]byte{p: files[p]}
	if _, err := gitrepo.CommitViaAPI(ctx, api, o); !errors.Is(err, gitrepo.ErrNothingToCommit) {
		t.Fatalf("unchanged files: %v, want ErrNothingToCommit", err)
	}
	if api.called("CreateCommit")+api.called("CreateRef") != 0 {
		t.Fatal("an unchanged tree was committed")
	}
	if _, err := s.Head(owner, name, branch); err == nil {
		t.Fatal("an unchanged tree created the branch")
	}
}

func TestCommitViaAPIThenPushConverge(t *testing.T) {
	// A branch made through the API can be rebuilt by a push, and back.
	s, base := newServer(t, manifests(10))
	api := newBareData(s.Server)
	ctx := context.Background()
	res, err := gitrepo.CommitViaAPI(ctx, api, gitrepo.CommitViaAPIOptions{
		Owner: owner, Repo: name, Branch: branch, BaseSHA: base, Message: "m", Files: changes(),
	})
	if err != nil {
		t.Fatal(err)
	}
	sha, pushed := fix(t, clone(t, s, gitrepo.CloneOptions{}), changes(), t0)
	if !pushed.Updated || pushed.SHA != sha || sha == res.SHA {
		t.Fatalf("push over an API commit: %+v", pushed)
	}
	if got, _ := s.Head(owner, name, branch); got != sha {
		t.Fatalf("branch = %s, want %s", got, sha)
	}
	parents, _ := gittestGit(s.RepoPath(owner, name), "log", "-1", "--format=%P", branch)
	if parents != base {
		t.Fatalf("parent = %s, want %s", parents, base)
	}
}
