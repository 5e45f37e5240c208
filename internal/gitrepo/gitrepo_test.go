package gitrepo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmend/kmend/internal/gitrepo"
	"github.com/kmend/kmend/internal/gittest"
)

const (
	token  = "ghs_s3cr3tInstallationToken0123456789"
	owner  = "acme"
	name   = "infra"
	branch = "kmend/fix-payments"
)

var (
	bot = gitrepo.BotIdentity("kmend", 4242)
	t0  = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
)

// manifests makes n small Deployment files spread over directories.
func manifests(n int) map[string][]byte {
	files := make(map[string][]byte, n+1)
	files["README.md"] = []byte("# infra\n")
	for i := range n - 1 {
		files[fmt.Sprintf("apps/team%02d/app%04d/deployment.yaml", i%40, i)] = fmt.Appendf(nil,
			"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app%04d\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: example/app:%d\n", i, i)
	}
	return files
}

// counted is a server whose requests are counted (through Authorize).
type counted struct {
	*gittest.Server
	requests atomic.Int64
}

func newServer(t testing.TB, files map[string][]byte) (*counted, string) {
	t.Helper()
	c := &counted{}
	c.Server = gittest.New(t, gittest.Options{Authorize: func(tok, _, _ string, _ bool) bool {
		c.requests.Add(1)
		return tok == token
	}})
	head := c.CreateRepo(owner, name, files)
	return c, head
}

func clone(t testing.TB, s *counted, opts gitrepo.CloneOptions) *gitrepo.Repo {
	t.Helper()
	if opts.URL == "" {
		opts.URL = s.RepoURL(owner, name)
	}
	if opts.Token == "" {
		opts.Token = token
	}
	r, err := gitrepo.Clone(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	return r
}

// fix is the bot's whole flow: branch from main, write, commit, push.
func fix(t testing.TB, r *gitrepo.Repo, files map[string][]byte, when time.Time) (string, gitrepo.RemoteBranch) {
	t.Helper()
	if err := r.Checkout(branch, "main"); err != nil {
		t.Fatal(err)
	}
	if err := r.Write(files); err != nil {
		t.Fatal(err)
	}
	sha, err := r.Commit(gitrepo.CommitOptions{Message: "kmend: fix KM-002 in payments", Author: bot, When: when})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Push(context.Background(), gitrepo.PushOptions{Branch: branch, Token: token, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	return sha, res
}

func changes() map[string][]byte {
	return map[string][]byte{
		"apps/team01/app0001/deployment.yaml": []byte("apiVersion: apps/v1\nkind: Deployment\n# fixed\n"),
		"apps/team02/app0002/deployment.yaml": []byte("apiVersion: apps/v1\nkind: Deployment\n# fixed too\n"),
		"apps/new/kustomization.yaml":         []byte("resources: []\n"),
	}
}

func TestCloneCommitPush2000Files(t *testing.T) {
	files := manifests(2000)
	s, head := newServer(t, files)
	dir := filepath.Join(t.TempDir(), "wt")
	r := clone(t, s, gitrepo.CloneOptions{Branch: "main", Dir: dir})
	if got, _ := r.Head(); got != head {
		t.Fatalf("HEAD = %s, want %s", got, head)
	}
	if r.Base() != "main" || r.DefaultBranch() != "main" || r.Dir() != dir {
		t.Fatalf("Base %q, DefaultBranch %q, Dir %q", r.Base(), r.DefaultBranch(), r.Dir())
	}
	shallow, err := os.ReadFile(filepath.Join(dir, ".git", "shallow"))
	if err != nil || strings.TrimSpace(string(shallow)) != head {
		t.Fatalf("not a depth-1 clone: .git/shallow = %q, %v", shallow, err)
	}
	n := 0
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			n++
		}
		return nil
	})
	if err != nil || n != len(files) {
		t.Fatalf("worktree has %d files (%v), want %d", n, err, len(files))
	}

	sha, res := fix(t, r, changes(), t0)
	if res.SHA != sha || !res.Updated {
		t.Fatalf("push = %+v, want %s updated", res, sha)
	}
	if got, err := s.Head(owner, name, branch); err != nil || got != sha {
		t.Fatalf("remote %s = %s, %v; want %s", branch, got, err, sha)
	}
	if got, _ := s.Head(owner, name, "main"); got != head {
		t.Fatalf("main moved to %s", got)
	}
	for p, want := range changes() {
		got, err := s.ReadFile(owner, name, branch, p)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("server %s = %q, %v; want %q", p, got, err, want)
		}
	}
	// Untouched files are untouched.
	p := "apps/team03/app0003/deployment.yaml"
	if got, err := s.ReadFile(owner, name, branch, p); err != nil || !bytes.Equal(got, files[p]) {
		t.Fatalf("server %s = %q, %v", p, got, err)
	}
	if s.Pushes() != 1 {
		t.Fatalf("Pushes = %d, want 1", s.Pushes())
	}
}

func TestInMemoryCloneOfDefaultBranch(t *testing.T) {
	s, head := newServer(t, manifests(20))
	r := clone(t, s, gitrepo.CloneOptions{})
	if r.Dir() != "" || r.Base() != "main" || r.DefaultBranch() != "main" {
		t.Fatalf("Dir %q, Base %q, DefaultBranch %q", r.Dir(), r.Base(), r.DefaultBranch())
	}
	if got, _ := r.Head(); got != head {
		t.Fatalf("HEAD = %s, want %s", got, head)
	}
	got, err := r.ReadFile("README.md")
	if err != nil || string(got) != "# infra\n" {
		t.Fatalf("ReadFile = %q, %v", got, err)
	}
	sha, res := fix(t, r, changes(), t0)
	if res.SHA != sha || !res.Updated {
		t.Fatalf("push = %+v", res)
	}
	if b, err := s.ReadFile(owner, name, sha, "apps/new/kustomization.yaml"); err != nil || string(b) != "resources: []\n" {
		t.Fatalf("server file = %q, %v", b, err)
	}
}

func TestPushRefusesProtectedBranches(t *testing.T) {
	s, head := newServer(t, manifests(10))
	s.CreateRepo(owner, "release-based", manifests(10))
	r := clone(t, s, gitrepo.CloneOptions{Branch: "main"})
	for _, b := range []string{"main", "release/1.2", "production"} {
		if err := r.Checkout(b, "main"); err != nil {
			t.Fatal(err)
		}
		if err := r.Write(map[string][]byte{"x.yaml": []byte(b)}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Commit(gitrepo.CommitOptions{Message: "x", Author: bot, When: t0}); err != nil {
			t.Fatal(err)
		}
	}
	before := s.requests.Load()
	cases := []struct {
		branch string
		opts   gitrepo.PushOptions
	}{
		{"main", gitrepo.PushOptions{}},            // cloned base and default branch
		{"main", gitrepo.PushOptions{Force: true}}, // force does not help
		{"production", gitrepo.PushOptions{DefaultBranch: "production"}},
		{"production", gitrepo.PushOptions{ProtectedBranches: []string{"staging", "production"}}},
		{"release/1.2", gitrepo.PushOptions{ProtectedBranches: []string{"release/*"}}},
	}
	for _, c := range cases {
		c.opts.Branch, c.opts.Token = c.branch, token
		_, err := r.Push(context.Background(), c.opts)
		if !errors.Is(err, gitrepo.ErrProtectedBranch) {
			t.Errorf("push %s with %+v: %v, want ErrProtectedBranch", c.branch, c.opts.ProtectedBranches, err)
		}
	}
	if n := s.requests.Load() - before; n != 0 {
		t.Fatalf("refused pushes made %d requests, want none", n)
	}
	if got, _ := s.Head(owner, name, "main"); got != head {
		t.Fatalf("main moved to %s", got)
	}
	// The pattern does not catch other branches.
	if _, err := r.Push(context.Background(), gitrepo.PushOptions{Branch: "production", Token: token, ProtectedBranches: []string{"release/*"}}); err != nil {
		t.Fatalf("push of an unprotected branch: %v", err)
	}

	// Cloning another branch: the server's default branch is still refused.
	s.CreateRepo(owner, "two", manifests(3))
	r2 := clone(t, s, gitrepo.CloneOptions{URL: s.RepoURL(owner, "two"), Branch: "main"})
	if err := r2.Checkout("feature", "main"); err != nil {
		t.Fatal(err)
	}
	if _, err := r2.Push(context.Background(), gitrepo.PushOptions{Branch: "feature", Token: token}); err != nil {
		t.Fatal(err)
	}
	r3 := clone(t, s, gitrepo.CloneOptions{URL: s.RepoURL(owner, "two"), Branch: "feature"})
	if r3.DefaultBranch() != "main" {
		t.Fatalf("DefaultBranch = %q, want main", r3.DefaultBranch())
	}
	if err := r3.Checkout("main", "feature"); err != nil {
		t.Fatal(err)
	}
	if _, err := r3.Push(context.Background(), gitrepo.PushOptions{Branch: "main", Token: token, Force: true}); !errors.Is(err, gitrepo.ErrProtectedBranch) {
		t.Fatalf("push to the default branch from a clone of another: %v", err)
	}
	for _, bad := range []string{"", "refs/heads/x", "a..b", "-x", "a b"} {
		if _, err := r.Push(context.Background(), gitrepo.PushOptions{Branch: bad, Token: token}); !errors.Is(err, gitrepo.ErrInvalidBranch) {
			t.Errorf("push %q: %v, want ErrInvalidBranch", bad, err)
		}
	}
}

func TestAuthErrorsNeverShowTheToken(t *testing.T) {
	s, _ := newServer(t, manifests(5))
	ctx := context.Background()
	wrong := "ghs_wrongTokenValue987654321"
	check := func(t *testing.T, err error, want error, secrets ...string) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Fatalf("error %v, want %v", err, want)
		}
		for _, sec := range secrets {
			if strings.Contains(err.Error(), sec) {
				t.Fatalf("error shows a token: %v", err)
			}
		}
		t.Log(err)
	}
	t.Run("clone wrong token", func(t *testing.T) {
		_, err := gitrepo.Clone(ctx, gitrepo.CloneOptions{URL: s.RepoURL(owner, name), Token: wrong})
		check(t, err, gitrepo.ErrAuth, wrong)
	})
	t.Run("clone no token", func(t *testing.T) {
		_, err := gitrepo.Clone(ctx, gitrepo.CloneOptions{URL: s.RepoURL(owner, name)})
		check(t, err, gitrepo.ErrAuth)
	})
	t.Run("clone wrong URL", func(t *testing.T) {
		_, err := gitrepo.Clone(ctx, gitrepo.CloneOptions{URL: s.RepoURL(owner, "missing"), Token: token})
		check(t, err, gitrepo.ErrRepoNotFound, token)
	})
	t.Run("clone missing branch", func(t *testing.T) {
		_, err := gitrepo.Clone(ctx, gitrepo.CloneOptions{URL: s.RepoURL(owner, name), Branch: "nope", Token: token})
		check(t, err, gitrepo.ErrRefNotFound, token)
	})
	t.Run("clone credentials in URL", func(t *testing.T) {
		u := strings.Replace(s.RepoURL(owner, "missing"), "http://", "http://"+gittest.TokenUser+":"+token+"@", 1)
		_, err := gitrepo.Clone(ctx, gitrepo.CloneOptions{URL: u, Token: token})
		check(t, err, gitrepo.ErrRepoNotFound, token)
	})
	t.Run("clone unreachable", func(t *testing.T) {
		_, err := gitrepo.Clone(ctx, gitrepo.CloneOptions{URL: "http://127.0.0.1:1/" + token + "/x.git", Token: token})
		if err == nil {
			t.Fatal("clone of an unreachable server succeeded")
		}
		if strings.Contains(err.Error(), token) {
			t.Fatalf("error shows a token: %v", err)
		}
		t.Log(err)
	})
	t.Run("push wrong token", func(t *testing.T) {
		r := clone(t, s, gitrepo.CloneOptions{})
		if err := r.Checkout(branch, "main"); err != nil {
			t.Fatal(err)
		}
		_, err := r.Push(ctx, gitrepo.PushOptions{Branch: branch, Token: wrong})
		check(t, err, gitrepo.ErrAuth, wrong, token)
		if _, err := s.Head(owner, name, branch); err == nil {
			t.Fatal("refused push created the branch")
		}
	})
	t.Run("push with a read-only token", func(t *testing.T) {
		ro := gittest.New(t, gittest.Options{Authorize: func(tok, _, _ string, push bool) bool {
			return tok == "reader" && !push
		}})
		ro.CreateRepo(owner, name, manifests(3))
		r, err := gitrepo.Clone(ctx, gitrepo.CloneOptions{URL: ro.RepoURL(owner, name), Token: "reader"})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Checkout(branch, "main"); err != nil {
			t.Fatal(err)
		}
		_, err = r.Push(ctx, gitrepo.PushOptions{Branch: branch, Token: "reader"})
		check(t, err, gitrepo.ErrAuth, "reader")
		if ro.Pushes() != 0 {
			t.Fatalf("Pushes = %d", ro.Pushes())
		}
	})
	t.Run("clone into a non-empty directory", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "keep"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := gitrepo.Clone(ctx, gitrepo.CloneOptions{URL: s.RepoURL(owner, name), Token: token, Dir: dir}); err == nil {
			t.Fatal("clone into a non-empty directory succeeded")
		}
	})
	t.Run("failed clone leaves the directory reusable", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "wt")
		if _, err := gitrepo.Clone(ctx, gitrepo.CloneOptions{URL: s.RepoURL(owner, name), Token: wrong, Dir: dir}); err == nil {
			t.Fatal("clone succeeded")
		}
		clone(t, s, gitrepo.CloneOptions{Dir: dir})
	})
}

func TestBrokenPushConverges(t *testing.T) {
	s, _ := newServer(t, manifests(50))
	r := clone(t, s, gitrepo.CloneOptions{Branch: "main"})
	ctx := context.Background()

	// A first version of the branch is on the server.
	first, _ := fix(t, r, changes(), t0)

	// The bot rebuilds the branch; the push dies halfway.
	if err := r.Checkout(branch, "main"); err != nil {
		t.Fatal(err)
	}
	more := changes()
	for i := range 30 {
		more[fmt.Sprintf("apps/team%02d/app%04d/deployment.yaml", i%40, i)] = bytes.Repeat(fmt.Appendf(nil, "# %d\n", i), 100)
	}
	if err := r.Write(more); err != nil {
		t.Fatal(err)
	}
	second, err := r.Commit(gitrepo.CommitOptions{Message: "kmend: fix more", Author: bot, When: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	s.BreakNextPush()
	if _, err := r.Push(ctx, gitrepo.PushOptions{Branch: branch, Token: token, Force: true}); err == nil {
		t.Fatal("broken push succeeded")
	}
	if got, _ := s.Head(owner, name, branch); got != first {
		t.Fatalf("broken push moved %s to %s, want %s", branch, got, first)
	}
	res, err := r.Push(ctx, gitrepo.PushOptions{Branch: branch, Token: token, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.SHA != second || !res.Updated {
		t.Fatalf("second push = %+v, want %s updated", res, second)
	}
	if got, _ := s.Head(owner, name, branch); got != second {
		t.Fatalf("after the second push %s = %s, want %s", branch, got, second)
	}
	for p, want := range more {
		if got, err := s.ReadFile(owner, name, branch, p); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("server %s = %q, %v", p, got, err)
		}
	}
}

func TestRerunMakesNoNewCommit(t *testing.T) {
	s, _ := newServer(t, manifests(50))
	first, res := fix(t, clone(t, s, gitrepo.CloneOptions{}), changes(), t0)
	if !res.Updated {
		t.Fatal("first push did not update")
	}
	pushes := s.Pushes()

	// The same inputs, in a fresh clone: the same commit, no push.
	again, res := fix(t, clone(t, s, gitrepo.CloneOptions{}), changes(), t0)
	if again != first || res.SHA != first || res.Updated {
		t.Fatalf("rerun: commit %s, push %+v; want %s not updated", again, res, first)
	}
	// A replay an hour later: another local commit with the same change;
	// the push keeps the server's commit.
	r := clone(t, s, gitrepo.CloneOptions{})
	later, res := fix(t, r, changes(), t0.Add(time.Hour))
	if later == first {
		t.Fatal("a different time gave the same commit")
	}
	if res.SHA != first || res.Updated {
		t.Fatalf("replay: push %+v, want %s not updated", res, first)
	}
	if head, _ := r.Head(); head != first {
		t.Fatalf("local branch = %s after the replay, want the server's %s", head, first)
	}
	if s.Pushes() != pushes {
		t.Fatalf("reruns pushed %d times", s.Pushes()-pushes)
	}
	if got, _ := s.Head(owner, name, branch); got != first {
		t.Fatalf("remote %s moved to %s", branch, got)
	}
	// In the same clone, the same again: nothing to commit.
	if err := r.Write(changes()); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Commit(gitrepo.CommitOptions{Message: "again", Author: bot, When: t0}); !errors.Is(err, gitrepo.ErrNothingToCommit) {
		t.Fatalf("commit without changes: %v, want ErrNothingToCommit", err)
	}

	// A different change is pushed (force: the branch is rebuilt from main).
	other := changes()
	other["apps/new/kustomization.yaml"] = []byte("resources: [a.yaml]\n")
	sha, res := fix(t, clone(t, s, gitrepo.CloneOptions{}), other, t0)
	if sha == first || res.SHA != sha || !res.Updated {
		t.Fatalf("changed rerun: commit %s, push %+v", sha, res)
	}
	if got, _ := s.Head(owner, name, branch); got != sha {
		t.Fatalf("remote %s = %s, want %s", branch, got, sha)
	}
}

func TestCheckoutResetsToTheBase(t *testing.T) {
	s, head := newServer(t, manifests(50))
	r := clone(t, s, gitrepo.CloneOptions{Dir: filepath.Join(t.TempDir(), "wt")})
	if err := r.Checkout(branch, "main"); err != nil {
		t.Fatal(err)
	}
	if err := r.Write(map[string][]byte{"README.md": []byte("changed\n"), "new/file.yaml": []byte("x\n")}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Commit(gitrepo.CommitOptions{Message: "m", Author: bot, When: t0}); err != nil {
		t.Fatal(err)
	}
	// Uncommitted leftovers too.
	if err := r.Write(map[string][]byte{"stray.txt": []byte("x"), "README.md": []byte("dirty\n")}); err != nil {
		t.Fatal(err)
	}
	if err := r.Remove([]string{"apps/team01/app0001/deployment.yaml"}); err != nil {
		t.Fatal(err)
	}

	for range 2 {
		if err := r.Checkout(branch, "main"); err != nil {
			t.Fatal(err)
		}
		if got, _ := r.Head(); got != head {
			t.Fatalf("HEAD = %s after Checkout from main, want %s", got, head)
		}
		if b, err := r.ReadFile("README.md"); err != nil || string(b) != "# infra\n" {
			t.Fatalf("README.md = %q, %v", b, err)
		}
		for _, p := range []string{"new/file.yaml", "stray.txt"} {
			if _, err := os.Stat(filepath.Join(r.Dir(), p)); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("%s survived Checkout: %v", p, err)
			}
		}
		if _, err := r.ReadFile("apps/team01/app0001/deployment.yaml"); err != nil {
			t.Fatalf("removed file not restored: %v", err)
		}
		if _, err := r.Commit(gitrepo.CommitOptions{Message: "m", Author: bot, When: t0}); !errors.Is(err, gitrepo.ErrNothingToCommit) {
			t.Fatalf("worktree not clean after Checkout: %v", err)
		}
	}
	// From a SHA, and from nowhere.
	if err := r.Checkout("other", head); err != nil {
		t.Fatal(err)
	}
	if err := r.Checkout("other", "no-such-branch"); !errors.Is(err, gitrepo.ErrRefNotFound) {
		t.Fatalf("checkout from a missing branch: %v", err)
	}
	if err := r.Checkout("bad..name", "main"); !errors.Is(err, gitrepo.ErrInvalidBranch) {
		t.Fatalf("checkout of a bad name: %v", err)
	}
}

func TestRemoveAndCommit(t *testing.T) {
	s, _ := newServer(t, manifests(20))
	r := clone(t, s, gitrepo.CloneOptions{})
	if err := r.Checkout(branch, "main"); err != nil {
		t.Fatal(err)
	}
	gone := "apps/team01/app0001/deployment.yaml"
	if err := r.Remove([]string{gone, "apps/team99/missing.yaml"}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("remove of a missing file: %v, want fs.ErrNotExist", err)
	}
	if _, err := r.ReadFile(gone); err != nil {
		t.Fatalf("a failed Remove removed %s: %v", gone, err)
	}
	if err := r.Remove([]string{"apps/team01"}); err == nil {
		t.Fatal("remove of a directory succeeded")
	}
	if err := r.Remove([]string{gone}); err != nil {
		t.Fatal(err)
	}
	sha, err := r.Commit(gitrepo.CommitOptions{Message: "remove", Author: bot, When: t0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Push(context.Background(), gitrepo.PushOptions{Branch: branch, Token: token}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadFile(owner, name, sha, gone); err == nil {
		t.Fatalf("%s still on the server", gone)
	}
	if _, err := s.ReadFile(owner, name, sha, "README.md"); err != nil {
		t.Fatal(err)
	}
}

func TestPathsCannotEscape(t *testing.T) {
	s, _ := newServer(t, manifests(5))
	root := t.TempDir()
	dir := filepath.Join(root, "wt")
	r := clone(t, s, gitrepo.CloneOptions{Dir: dir})
	if err := r.Checkout(branch, "main"); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(root, "outside")
	if err := os.Mkdir(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "target"), filepath.Join(dir, "filelink")); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path string
		want error
	}{
		{"../outside/x", gitrepo.ErrEscapes},
		{"apps/../../outside/x", gitrepo.ErrEscapes},
		{"/etc/passwd", gitrepo.ErrEscapes},
		{".git/config", gitrepo.ErrEscapes},
		{"apps/.GIT/hooks/pre-commit", gitrepo.ErrEscapes},
		{`..\outside\x`, gitrepo.ErrEscapes},
		{"link/x", gitrepo.ErrEscapes},
		{"filelink", gitrepo.ErrEscapes},
		{"", gitrepo.ErrInvalidPath},
		{".", gitrepo.ErrInvalidPath},
		{"a\x00b", gitrepo.ErrInvalidPath},
	}
	for _, c := range cases {
		files := map[string][]byte{"good.yaml": []byte("ok\n"), c.path: []byte("pwned\n")}
		if err := r.Write(files); !errors.Is(err, c.want) {
			t.Errorf("Write(%q): %v, want %v", c.path, err, c.want)
		}
		if _, err := r.ReadFile(c.path); !errors.Is(err, c.want) {
			t.Errorf("ReadFile(%q): %v, want %v", c.path, err, c.want)
		}
		if c.path == "filelink" {
			continue // removing a link is allowed (below)
		}
		if err := r.Remove([]string{"README.md", c.path}); !errors.Is(err, c.want) {
			t.Errorf("Remove(%q): %v, want %v", c.path, err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "good.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a refused Write wrote the good path too: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Fatalf("a refused Remove removed README.md: %v", err)
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 0 {
		t.Fatalf("something was written outside the worktree: %v", entries)
	}
	// Inside paths that merely look odd are fine.
	if err := r.Write(map[string][]byte{"apps/../top.yaml": []byte("x\n"), "./a/b.yaml": []byte("y\n")}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "top.yaml")); err != nil || string(b) != "x\n" {
		t.Fatalf("top.yaml = %q, %v", b, err)
	}
	if err := r.Write(map[string][]byte{"a/b.yaml": []byte("1"), "./a/b.yaml": []byte("2")}); !errors.Is(err, gitrepo.ErrInvalidPath) {
		t.Fatalf("two names for one path: %v", err)
	}
	// Removing a symbolic link removes the link only.
	if err := r.Remove([]string{"filelink"}); err != nil {
		t.Fatal(err)
	}
}

func TestCommitKeepsModeAndIdentity(t *testing.T) {
	s, _ := newServer(t, manifests(5))
	dir := filepath.Join(t.TempDir(), "wt")
	r := clone(t, s, gitrepo.CloneOptions{Dir: dir})
	if err := r.Checkout(branch, "main"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Commit(gitrepo.CommitOptions{Message: "", Author: bot}); err == nil {
		t.Fatal("commit without a message succeeded")
	}
	if _, err := r.Commit(gitrepo.CommitOptions{Message: "m"}); err == nil {
		t.Fatal("commit without an author succeeded")
	}
	if err := r.Write(map[string][]byte{"README.md": []byte("new\n")}); err != nil {
		t.Fatal(err)
	}
	a, err := r.Commit(gitrepo.CommitOptions{Message: "m", Author: bot, When: t0})
	if err != nil {
		t.Fatal(err)
	}
	// The same change with the same inputs on the same base: the same SHA.
	if err := r.Checkout(branch, "main"); err != nil {
		t.Fatal(err)
	}
	if err := r.Write(map[string][]byte{"README.md": []byte("new\n")}); err != nil {
		t.Fatal(err)
	}
	b, err := r.Commit(gitrepo.CommitOptions{Message: "m\n", Author: bot, When: t0})
	if err != nil || b != a {
		t.Fatalf("same inputs gave %s (%v), want %s", b, err, a)
	}
	if _, err := r.Push(context.Background(), gitrepo.PushOptions{Branch: branch, Token: token}); err != nil {
		t.Fatal(err)
	}
	// The author as GitHub shows a bot: read the commit with git itself.
	out, err := gittestGit(s.RepoPath(owner, name), "log", "-1", "--format=%an <%ae>|%cn <%ce>|%at|%s", branch)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("kmend[bot] <4242+kmend[bot]@users.noreply.github.com>|kmend[bot] <4242+kmend[bot]@users.noreply.github.com>|%d|m", t0.Unix())
	if out != want {
		t.Fatalf("git log = %q, want %q", out, want)
	}
}

func TestBotIdentity(t *testing.T) {
	got := gitrepo.BotIdentity("kmend-dev", 123456)
	want := gitrepo.Author{Name: "kmend-dev[bot]", Email: "123456+kmend-dev[bot]@users.noreply.github.com"}
	if got != want {
		t.Fatalf("BotIdentity = %+v, want %+v", got, want)
	}
}
