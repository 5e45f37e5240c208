package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/memory"
)

// TokenUser is the basic-auth user name GitHub expects with an
// installation token.
const TokenUser = "x-access-token"

const remoteName = "origin"

// CloneOptions say what to clone and where.
type CloneOptions struct {
	// URL is the repository's HTTPS URL, without credentials.
	URL string
	// Branch is the branch to clone (the base of kmend's changes). Empty
	// means the remote's default branch.
	Branch string
	// Token is the installation token, sent as basic auth
	// x-access-token:<Token>. Empty sends no credentials.
	Token string
	// Dir is where the worktree goes; it must not hold a repository. Empty
	// keeps the repository and its worktree in memory.
	Dir string
	// Depth is the number of commits to fetch: 0 means 1, a negative
	// number the whole history.
	Depth int
}

// Repo is a cloned repository with its worktree. A Repo is not safe for
// concurrent use.
type Repo struct {
	repo          *git.Repository
	wt            *git.Worktree
	fs            billy.Filesystem
	dir           string
	where         string // the URL without credentials, for messages
	base          string
	defaultBranch string
	closer        io.Closer // the storage's open packfiles, on disk
}

// Author is a commit's author and committer.
type Author struct {
	Name  string
	Email string
}

// BotIdentity is the commit identity of a GitHub App's bot user: GitHub
// links commits with this name and e-mail address to the App.
func BotIdentity(appSlug string, botUserID int64) Author {
	return Author{
		Name:  appSlug + "[bot]",
		Email: fmt.Sprintf("%d+%s[bot]@users.noreply.github.com", botUserID, appSlug),
	}
}

func basicAuth(token string) transport.AuthMethod {
	if token == "" {
		return nil
	}
	return &githttp.BasicAuth{Username: TokenUser, Password: token}
}

func branchRef(branch string) (plumbing.ReferenceName, error) {
	name := plumbing.NewBranchReferenceName(branch)
	if branch == "" || strings.HasPrefix(branch, "refs/") || strings.HasPrefix(branch, "-") || name.Validate() != nil {
		return "", fmt.Errorf("%w: %q", ErrInvalidBranch, branch)
	}
	return name, nil
}

// Clone makes a shallow clone of one branch of opts.URL.
func Clone(ctx context.Context, opts CloneOptions) (*Repo, error) {
	where := safeURL(opts.URL)
	if opts.URL == "" {
		return nil, errors.New("clone: no URL")
	}
	depth := opts.Depth
	switch {
	case depth == 0:
		depth = 1
	case depth < 0:
		depth = 0
	}
	co := &git.CloneOptions{
		URL:          opts.URL,
		Auth:         basicAuth(opts.Token),
		RemoteName:   remoteName,
		SingleBranch: true,
		Depth:        depth,
		Tags:         git.NoTags,
	}
	if opts.Branch != "" {
		ref, err := branchRef(opts.Branch)
		if err != nil {
			return nil, fmt.Errorf("clone %s: %w", where, err)
		}
		co.ReferenceName = ref
	}

	repo, undo, err := cloneInto(ctx, opts.Dir, co)
	if err != nil {
		op := "clone " + where
		if opts.Dir != "" {
			op += " into " + opts.Dir
		}
		if opts.Branch != "" {
			op += " branch " + opts.Branch
		}
		if errors.Is(err, plumbing.ErrReferenceNotFound) || errors.Is(err, git.NoMatchingRefSpecError{}) {
			err = &kindError{ErrRefNotFound, err}
		}
		return nil, remoteErr(op, err, opts.Token)
	}
	r, err := newRepo(ctx, repo, opts, where)
	if err != nil {
		undo()
		return nil, err
	}
	return r, nil
}

// cloneInto clones into memory (dir empty) or into dir, which must be
// absent or empty; undo closes the storage and brings dir back to that
// state.
func cloneInto(ctx context.Context, dir string, co *git.CloneOptions) (repo *git.Repository, undo func(), err error) {
	if dir == "" {
		repo, err = git.CloneContext(ctx, memory.NewStorage(), memfs.New(), co)
		return repo, func() {}, err
	}
	clear, err := prepareDir(dir)
	if err != nil {
		return nil, nil, err
	}
	// The layout of git.PlainClone, with the packfile kept open: without
	// KeepDescriptors go-git opens the pack once per object it reads.
	wtfs := osfs.New(dir)
	dot, err := wtfs.Chroot(git.GitDirName)
	if err != nil {
		clear()
		return nil, nil, err
	}
	st := filesystem.NewStorageWithOptions(dot, cache.NewObjectLRUDefault(), filesystem.Options{KeepDescriptors: true})
	undo = func() {
		_ = st.Close()
		clear()
	}
	repo, err = git.CloneContext(ctx, st, wtfs, co)
	if err != nil {
		undo()
		return nil, nil, err
	}
	return repo, undo, nil
}

// newRepo wraps a fresh clone and learns its base and default branches.
func newRepo(ctx context.Context, repo *git.Repository, opts CloneOptions, where string) (*Repo, error) {
	wt, err := repo.Worktree()
	if err != nil {
		return nil, fmt.Errorf("clone %s: %w", where, err)
	}
	r := &Repo{repo: repo, wt: wt, fs: wt.Filesystem, dir: opts.Dir, where: where, base: opts.Branch}
	if c, ok := repo.Storer.(io.Closer); ok {
		r.closer = c
	}
	if r.base == "" {
		head, err := repo.Head()
		if err != nil {
			return nil, fmt.Errorf("clone %s: %w", where, err)
		}
		r.base = head.Name().Short()
		r.defaultBranch = r.base
		return r, nil
	}
	// The default branch is protected from pushes; ask the remote's HEAD.
	remote, err := repo.Remote(remoteName)
	if err != nil {
		return nil, fmt.Errorf("clone %s: %w", where, err)
	}
	refs, err := remote.ListContext(ctx, &git.ListOptions{Auth: basicAuth(opts.Token)})
	if err != nil {
		return nil, remoteErr("clone "+where+": list references", err, opts.Token)
	}
	for _, ref := range refs {
		if ref.Name() == plumbing.HEAD && ref.Type() == plumbing.SymbolicReference && ref.Target().IsBranch() {
			r.defaultBranch = ref.Target().Short()
		}
	}
	return r, nil
}

// prepareDir checks that dir is absent or empty and returns how to bring
// it back to that state after a failed clone.
func prepareDir(dir string) (undo func(), err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return func() { _ = os.RemoveAll(dir) }, nil
	case err != nil:
		return nil, err
	case len(entries) > 0:
		return nil, errors.New("directory is not empty")
	}
	return func() {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			_ = os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}, nil
}

// Close releases the files the repository keeps open. The worktree stays;
// the Repo must not be used afterwards.
func (r *Repo) Close() error {
	if r.closer == nil {
		return nil
	}
	if err := r.closer.Close(); err != nil {
		return fmt.Errorf("close %s: %w", r.where, err)
	}
	return nil
}

// Dir is the worktree's directory, empty for an in-memory clone.
func (r *Repo) Dir() string { return r.dir }

// Base is the branch that was cloned.
func (r *Repo) Base() string { return r.base }

// DefaultBranch is the remote's default branch when the server said which
// it is (it does when it has one).
func (r *Repo) DefaultBranch() string { return r.defaultBranch }

// Head is the commit SHA HEAD points at.
func (r *Repo) Head() (string, error) {
	h, err := r.repo.Head()
	if err != nil {
		return "", fmt.Errorf("head: %w", err)
	}
	return h.Hash().String(), nil
}

// Checkout points branch at from (a branch that was cloned or fetched, a
// local branch, or a full commit SHA), creating branch if needed, and makes
// the index and the worktree match it: local changes and untracked files
// are dropped. The same from always gives the same tree.
func (r *Repo) Checkout(branch, from string) error {
	name, err := branchRef(branch)
	if err != nil {
		return fmt.Errorf("checkout %s: %w", branch, err)
	}
	h, err := r.resolve(from)
	if err != nil {
		return fmt.Errorf("checkout %s from %s: %w", branch, from, err)
	}
	// One status says what must be undone (each go-git status hashes the
	// worktree, so it is the expensive part).
	st, err := r.wt.Status()
	if err != nil {
		return fmt.Errorf("checkout %s from %s: status: %w", branch, from, err)
	}
	head, err := r.repo.Head()
	if err != nil {
		return fmt.Errorf("checkout %s from %s: %w", branch, from, err)
	}
	if err := r.repo.Storer.SetReference(plumbing.NewHashReference(name, h)); err != nil {
		return fmt.Errorf("checkout %s from %s: %w", branch, from, err)
	}
	if st.IsClean() && head.Hash() == h {
		// The worktree and index already hold from's tree: only HEAD moves.
		if err := r.repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, name)); err != nil {
			return fmt.Errorf("checkout %s from %s: %w", branch, from, err)
		}
		return nil
	}
	if err := r.wt.Checkout(&git.CheckoutOptions{Branch: name, Force: true}); err != nil {
		return fmt.Errorf("checkout %s from %s: %w", branch, from, err)
	}
	if !st.IsClean() {
		// Untracked files, and new files that were only staged, are left
		// by a hard reset.
		if err := r.wt.Clean(&git.CleanOptions{Dir: true}); err != nil {
			return fmt.Errorf("checkout %s from %s: clean: %w", branch, from, err)
		}
	}
	return nil
}

// resolve finds a commit: the remote-tracking branch first (what the
// server had), then a local branch, a full reference name, a full SHA.
func (r *Repo) resolve(rev string) (plumbing.Hash, error) {
	if rev == "" {
		return plumbing.ZeroHash, ErrRefNotFound
	}
	for _, n := range []plumbing.ReferenceName{
		plumbing.NewRemoteReferenceName(remoteName, rev),
		plumbing.NewBranchReferenceName(rev),
		plumbing.ReferenceName(rev),
	} {
		if ref, err := r.repo.Reference(n, true); err == nil {
			return ref.Hash(), nil
		}
	}
	if len(rev) == 40 {
		h := plumbing.NewHash(rev)
		if h.String() == strings.ToLower(rev) {
			if _, err := r.repo.CommitObject(h); err == nil {
				return h, nil
			}
		}
	}
	return plumbing.ZeroHash, ErrRefNotFound
}

// ReadFile reads a file of the worktree.
func (r *Repo) ReadFile(name string) ([]byte, error) {
	p, err := CleanPath(name)
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", name, err)
	}
	fi, err := checkOnDisk(r.fs, p, false)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if fi == nil {
		return nil, fmt.Errorf("read %s: %w", p, fs.ErrNotExist)
	}
	f, err := r.fs.Open(p)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	return b, nil
}

// Write writes files (slash-separated paths relative to the repository
// root → contents) into the worktree, creating directories as needed and
// keeping an existing file's mode. Every path is checked first: if one
// would escape the worktree (ErrEscapes), nothing is written.
func (r *Repo) Write(files map[string][]byte) error {
	names := sortedKeys(files)
	paths, err := cleanPaths(names)
	if err != nil {
		return fmt.Errorf("write %w", err)
	}
	modes := make([]os.FileMode, len(paths))
	for i, p := range paths {
		fi, err := checkOnDisk(r.fs, p, false)
		if err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		modes[i] = 0o644
		if fi != nil {
			modes[i] = fi.Mode().Perm()
		}
	}
	for i, p := range paths {
		if err := r.writeFile(p, files[names[i]], modes[i]); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	return nil
}

func (r *Repo) writeFile(p string, data []byte, mode os.FileMode) error {
	if dir := path.Dir(p); dir != "." {
		if err := r.fs.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := r.fs.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Remove deletes files from the worktree. Every path is checked first: if
// one would escape the worktree (ErrEscapes), is a directory or does not
// exist (fs.ErrNotExist), nothing is removed.
func (r *Repo) Remove(names []string) error {
	paths, err := cleanPaths(names)
	if err != nil {
		return fmt.Errorf("remove %w", err)
	}
	for _, p := range paths {
		fi, err := checkOnDisk(r.fs, p, true)
		if err != nil {
			return fmt.Errorf("remove %s: %w", p, err)
		}
		if fi == nil {
			return fmt.Errorf("remove %s: %w", p, fs.ErrNotExist)
		}
	}
	for _, p := range paths {
		if err := r.fs.Remove(p); err != nil {
			return fmt.Errorf("remove %s: %w", p, err)
		}
	}
	return nil
}

// CommitOptions describe a commit.
type CommitOptions struct {
	Message string
	// Author is the author and the committer (see BotIdentity).
	Author Author
	// When is the commit's time; zero means now. The same tree, parent,
	// message, author and time give the same SHA.
	When time.Time
}

// Commit stages every change in the worktree (new, modified and deleted
// files) and commits it on the current branch, returning the commit's SHA.
// When the tree is unchanged it makes no commit and returns
// ErrNothingToCommit.
func (r *Repo) Commit(opts CommitOptions) (string, error) {
	msg := strings.TrimRight(opts.Message, "\n")
	if strings.TrimSpace(msg) == "" {
		return "", errors.New("commit: empty message")
	}
	if opts.Author.Name == "" || opts.Author.Email == "" {
		return "", errors.New("commit: author name and e-mail are required")
	}
	when := opts.When
	if when.IsZero() {
		when = time.Now()
	}
	// One AddWithOptions for the whole tree: one status, one index write.
	if err := r.wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		return "", fmt.Errorf("commit: stage: %w", err)
	}
	sig := &object.Signature{Name: opts.Author.Name, Email: opts.Author.Email, When: when}
	h, err := r.wt.Commit(msg+"\n", &git.CommitOptions{Author: sig, Committer: sig})
	if errors.Is(err, git.ErrEmptyCommit) {
		return "", fmt.Errorf("commit: %w", ErrNothingToCommit)
	}
	if err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	return h.String(), nil
}
