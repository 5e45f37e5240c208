package gittest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/memory"
)

// TokenUser is the basic-auth user name GitHub expects with an installation
// token.
const TokenUser = "x-access-token"

// DefaultBranch is the branch CreateRepo commits to and HEAD points at.
const DefaultBranch = "main"

// Options configure a Server.
type Options struct {
	// Root holds the bare repositories (<Root>/<owner>/<repo>.git).
	// Empty means a new t.TempDir().
	Root string
	// Authorize says whether token may read (push false) or push (push
	// true) owner/repo. Nil accepts any non-empty token. It may be called
	// from several goroutines at once.
	Authorize func(token, owner, repo string, push bool) bool
}

// Server is a running git server. Its methods may be called from several
// goroutines.
type Server struct {
	t         TB
	root      string
	authorize func(token, owner, repo string, push bool) bool
	backend   *cgi.Handler
	srv       *httptest.Server
	pushes    atomic.Int64
	breakNext atomic.Bool
	logs      *testLog
}

// TB is what the git server needs of its user: *testing.T and *testing.B
// satisfy it; a program (the demo) passes its own.
type TB interface {
	Helper()
	Cleanup(func())
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	TempDir() string
}

// New starts a git server for t; it stops when t ends.
func New(t TB, opts Options) *Server {
	t.Helper()
	root := opts.Root
	if root == "" {
		root = t.TempDir()
	}
	root, err := filepath.Abs(root)
	if err != nil {
		t.Fatalf("gittest: root: %v", err)
	}
	backend, err := backendPath()
	if err != nil {
		t.Fatalf("gittest: %v", err)
	}
	logs := &testLog{t: t}
	s := &Server{
		t:         t,
		root:      root,
		authorize: opts.Authorize,
		logs:      logs,
		backend: &cgi.Handler{
			Path: backend,
			Root: "/",
			Dir:  root,
			Env: []string{
				"GIT_PROJECT_ROOT=" + root,
				"GIT_HTTP_EXPORT_ALL=1",
				"GIT_CONFIG_NOSYSTEM=1",
				"GIT_CONFIG_GLOBAL=" + os.DevNull,
				"HOME=" + root,
				"GIT_CONFIG_COUNT=1",
				"GIT_CONFIG_KEY_0=http.receivepack",
				"GIT_CONFIG_VALUE_0=true",
			},
			InheritEnv: []string{"PATH"},
			Logger:     log.New(logs, "gittest: ", 0),
			Stderr:     logs,
		},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(func() {
		s.srv.Close()
		logs.close()
	})
	return s
}

// backendPath finds git-http-backend in git's exec path.
func backendPath() (string, error) {
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		return "", fmt.Errorf("git --exec-path: %w (is git installed?)", err)
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("git http-backend: %w", err)
	}
	return p, nil
}

// URL is the server's base URL, without a trailing slash.
func (s *Server) URL() string { return s.srv.URL }

// RepoURL is the clone URL of owner/repo.
func (s *Server) RepoURL(owner, repo string) string {
	return s.srv.URL + "/" + owner + "/" + repo + ".git"
}

// Root is the directory holding the bare repositories.
func (s *Server) Root() string { return s.root }

// RepoPath is the directory of the bare repository owner/repo.
func (s *Server) RepoPath(owner, repo string) string {
	return filepath.Join(s.root, owner, repo+".git")
}

// Pushes counts the push requests (receive-pack POSTs) that passed
// authorization, including those broken by BreakNextPush. A push that finds
// the remote up to date sends none.
func (s *Server) Pushes() int { return int(s.pushes.Load()) }

// BreakNextPush makes the next push fail halfway: the server reads half of
// the request body, hands that half to git receive-pack (which dies on the
// truncated pack without updating any ref) and closes the connection
// without answering.
func (s *Server) BreakNextPush() { s.breakNext.Store(true) }

// serveHTTP checks basic auth as GitHub does, then hands the request to git
// http-backend.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	owner, repo, ok := splitRepoPath(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	push := strings.HasSuffix(r.URL.Path, "/git-receive-pack") ||
		r.URL.Query().Get("service") == "git-receive-pack"
	user, token, hasAuth := r.BasicAuth()
	if !hasAuth || user != TokenUser || token == "" ||
		(s.authorize != nil && !s.authorize(token, owner, repo, push)) {
		w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
		http.Error(w, "Invalid username or password.", http.StatusUnauthorized)
		return
	}
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
		s.pushes.Add(1)
		if s.breakNext.CompareAndSwap(true, false) {
			s.breakPush(w, r)
			return
		}
	}
	s.backend.ServeHTTP(w, r)
}

// splitRepoPath reads owner and repo from /<owner>/<repo>.git/...
func splitRepoPath(p string) (owner, repo string, ok bool) {
	parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 3)
	if len(parts) < 3 || !strings.HasSuffix(parts[1], ".git") {
		return "", "", false
	}
	owner, repo = parts[0], strings.TrimSuffix(parts[1], ".git")
	if !validName(owner) || !validName(repo) || strings.Contains(parts[2], "..") {
		return "", "", false
	}
	return owner, repo, true
}

func validName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\\\x00")
}

// breakPush feeds half of the push to receive-pack, then drops the
// connection in the middle of a response. (A connection closed before any
// response would let clients such as curl retry the request on a fresh
// connection; a response cut short cannot be retried.)
func (s *Server) breakPush(w http.ResponseWriter, r *http.Request) {
	half := r.ContentLength / 2
	if half <= 0 {
		half = 1 << 10
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, half))
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	r2.Header.Del("Content-Encoding")
	// receive-pack answers "unpack error" (early EOF); the client never
	// sees that answer.
	s.backend.ServeHTTP(httptest.NewRecorder(), r2)
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\n" +
		"Content-Type: application/x-git-receive-pack-result\r\n" +
		"Cache-Control: no-cache\r\n" +
		"Content-Length: 1024\r\n\r\n" +
		"0030\x01000eunpack ok\n")
	_ = buf.Flush()
}

// CreateRepo makes the bare repository owner/repo with one commit on main
// holding files (slash-separated paths, mode 100644) and returns that
// commit's SHA. The commit's author and time are fixed, so the same files
// give the same SHA. It fails t if the repository exists or a path is
// invalid.
func (s *Server) CreateRepo(owner, repo string, files map[string][]byte) string {
	s.t.Helper()
	if !validName(owner) || !validName(repo) {
		s.t.Fatalf("gittest: invalid repository name %q/%q", owner, repo)
	}
	sha, err := createRepo(s.RepoPath(owner, repo), files)
	if err != nil {
		s.t.Fatalf("gittest: create %s/%s: %v", owner, repo, err)
	}
	return sha
}

// signature is the author and committer of CreateRepo's commit.
var signature = object.Signature{
	Name:  "gittest",
	Email: "gittest@example.com",
	When:  time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
}

func createRepo(dir string, files map[string][]byte) (string, error) {
	if _, err := os.Stat(dir); err == nil {
		return "", fmt.Errorf("%s already exists", filepath.Base(dir))
	}
	// Build the objects in memory, then store them as one pack, as a
	// server's repository is: git serves a 2,000-file pack several times
	// faster than as many loose objects.
	mem := memory.NewStorage()
	tree, err := WriteTree(mem, files)
	if err != nil {
		return "", err
	}
	c := &object.Commit{
		Author:    signature,
		Committer: signature,
		Message:   "initial commit\n",
		TreeHash:  tree,
	}
	obj := mem.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return "", err
	}
	h, err := mem.SetEncodedObject(obj)
	if err != nil {
		return "", err
	}

	r, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		Bare:        true,
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName(DefaultBranch)},
	})
	if err != nil {
		return "", err
	}
	if err := writePack(r.Storer, mem); err != nil {
		return "", err
	}
	ref := plumbing.NewHashReference(plumbing.NewBranchReferenceName(DefaultBranch), h)
	if err := r.Storer.SetReference(ref); err != nil {
		return "", err
	}
	return h.String(), nil
}

// writePack stores every object of mem in st as one packfile.
func writePack(st storer.Storer, mem *memory.Storage) error {
	pw, ok := st.(storer.PackfileWriter)
	if !ok {
		return errors.New("storage cannot write packfiles")
	}
	hashes := make([]plumbing.Hash, 0, len(mem.Objects))
	for h := range mem.Objects {
		hashes = append(hashes, h)
	}
	w, err := pw.PackfileWriter()
	if err != nil {
		return err
	}
	if _, err := packfile.NewEncoder(w, mem, false).Encode(hashes, 0); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// WriteTree stores files (slash-separated paths → contents, mode 100644) as
// blobs and trees in st and returns the root tree's hash.
func WriteTree(st storer.EncodedObjectStorer, files map[string][]byte) (plumbing.Hash, error) {
	entries := make(map[string]TreeFile, len(files))
	for name, data := range files {
		h, err := WriteBlob(st, data)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries[name] = TreeFile{Mode: filemode.Regular, Hash: h}
	}
	return WriteTreeFiles(st, entries)
}

// TreeFile is a file of a tree: its mode and its blob's hash.
type TreeFile struct {
	Mode filemode.FileMode
	Hash plumbing.Hash
}

// WriteTreeFiles stores the trees holding files (slash-separated paths →
// blobs already in st) and returns the root tree's hash.
func WriteTreeFiles(st storer.EncodedObjectStorer, files map[string]TreeFile) (plumbing.Hash, error) {
	root := &dirNode{}
	for name, f := range files {
		clean := path.Clean(name)
		if name == "" || clean != name || path.IsAbs(name) || clean == "." ||
			strings.HasPrefix(clean, "../") || clean == ".." {
			return plumbing.ZeroHash, fmt.Errorf("invalid path %q", name)
		}
		if err := root.add(strings.Split(clean, "/"), f); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("path %q: %w", name, err)
		}
	}
	return root.write(st)
}

// WriteBlob stores data as a blob in st.
func WriteBlob(st storer.EncodedObjectStorer, data []byte) (plumbing.Hash, error) {
	obj := st.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	obj.SetSize(int64(len(data)))
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
	return st.SetEncodedObject(obj)
}

type dirNode struct {
	files map[string]TreeFile
	dirs  map[string]*dirNode
}

func (d *dirNode) add(parts []string, f TreeFile) error {
	name := parts[0]
	if strings.EqualFold(name, ".git") {
		return errors.New(".git is reserved")
	}
	if len(parts) == 1 {
		if _, ok := d.dirs[name]; ok {
			return errors.New("a directory of that name exists")
		}
		if d.files == nil {
			d.files = map[string]TreeFile{}
		}
		d.files[name] = f
		return nil
	}
	if _, ok := d.files[name]; ok {
		return errors.New("a file of that name exists")
	}
	if d.dirs == nil {
		d.dirs = map[string]*dirNode{}
	}
	sub := d.dirs[name]
	if sub == nil {
		sub = &dirNode{}
		d.dirs[name] = sub
	}
	return sub.add(parts[1:], f)
}

func (d *dirNode) write(st storer.EncodedObjectStorer) (plumbing.Hash, error) {
	var entries []object.TreeEntry
	for name, f := range d.files {
		entries = append(entries, object.TreeEntry{Name: name, Mode: f.Mode, Hash: f.Hash})
	}
	for name, sub := range d.dirs {
		h, err := sub.write(st)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries = append(entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h})
	}
	SortEntries(entries)
	obj := st.NewEncodedObject()
	if err := (&object.Tree{Entries: entries}).Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(obj)
}

// SortEntries orders tree entries as git does: by name, a directory's name
// compared as if it ended with a slash.
func SortEntries(entries []object.TreeEntry) {
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	sort.Slice(entries, func(i, j int) bool { return key(entries[i]) < key(entries[j]) })
}

// Head returns the commit SHA of branch in owner/repo.
func (s *Server) Head(owner, repo, branch string) (string, error) {
	r, err := git.PlainOpen(s.RepoPath(owner, repo))
	if err != nil {
		return "", fmt.Errorf("open %s/%s: %w", owner, repo, err)
	}
	ref, err := r.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		return "", fmt.Errorf("head of %s in %s/%s: %w", branch, owner, repo, err)
	}
	return ref.Hash().String(), nil
}

// ReadFile returns the content of the file at path in ref of owner/repo;
// ref is a branch name, a full reference name or a commit SHA.
func (s *Server) ReadFile(owner, repo, ref, name string) ([]byte, error) {
	r, err := git.PlainOpen(s.RepoPath(owner, repo))
	if err != nil {
		return nil, fmt.Errorf("open %s/%s: %w", owner, repo, err)
	}
	h, err := resolve(r, ref)
	if err != nil {
		return nil, fmt.Errorf("read %s at %s in %s/%s: %w", name, ref, owner, repo, err)
	}
	c, err := r.CommitObject(h)
	if err != nil {
		return nil, fmt.Errorf("read %s at %s in %s/%s: %w", name, ref, owner, repo, err)
	}
	f, err := c.File(name)
	if err != nil {
		return nil, fmt.Errorf("read %s at %s in %s/%s: %w", name, ref, owner, repo, err)
	}
	rd, err := f.Reader()
	if err != nil {
		return nil, fmt.Errorf("read %s at %s in %s/%s: %w", name, ref, owner, repo, err)
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

func resolve(r *git.Repository, rev string) (plumbing.Hash, error) {
	if ref, err := r.Reference(plumbing.NewBranchReferenceName(rev), true); err == nil {
		return ref.Hash(), nil
	}
	if ref, err := r.Reference(plumbing.ReferenceName(rev), true); err == nil {
		return ref.Hash(), nil
	}
	if len(rev) == 40 {
		h := plumbing.NewHash(rev)
		if h.String() == strings.ToLower(rev) {
			return h, nil
		}
	}
	return plumbing.ZeroHash, plumbing.ErrReferenceNotFound
}

// testLog sends git's stderr to the test log until the test ends.
type testLog struct {
	mu     sync.Mutex
	t      TB
	closed bool
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.t.Logf("gittest: %s", strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (l *testLog) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}
