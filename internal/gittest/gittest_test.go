package gittest_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmend/kmend/internal/gittest"
)

const token = "ghs_test-token"

// git runs the git command line in dir with a clean environment and
// returns its trimmed output.
func git(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	home := t.TempDir()
	cmd.Env = append(os.Environ(),
		"HOME="+home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+filepath.Join(home, "gitconfig"),
		"GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=tester", "GIT_AUTHOR_EMAIL=tester@example.com",
		"GIT_COMMITTER_NAME=tester", "GIT_COMMITTER_EMAIL=tester@example.com",
	)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, errb.String())
	}
	return strings.TrimSpace(out.String()), nil
}

func mustGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := git(t, dir, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// authURL puts the token into a repository URL, as a person would for the
// git command line.
func authURL(t *testing.T, raw, user, pass string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(user, pass)
	return u.String()
}

func TestGitCLICloneCommitPush(t *testing.T) {
	s := gittest.New(t, gittest.Options{})
	head := s.CreateRepo("acme", "infra", map[string][]byte{
		"README.md":              []byte("# infra\n"),
		"apps/web/deploy.yaml":   []byte("kind: Deployment\n"),
		"apps/web-a/x.yaml":      []byte("a\n"),
		"apps/web.yaml":          []byte("b\n"),
		"apps/web/sub/deep.yaml": []byte("deep\n"),
	})
	// git fsck checks the objects CreateRepo wrote, tree order included.
	mustGit(t, s.RepoPath("acme", "infra"), "fsck", "--strict")

	dir := t.TempDir()
	mustGit(t, dir, "clone", "--depth", "1", authURL(t, s.RepoURL("acme", "infra"), gittest.TokenUser, token), "wt")
	wt := filepath.Join(dir, "wt")
	if got := mustGit(t, wt, "rev-parse", "HEAD"); got != head {
		t.Fatalf("cloned HEAD = %s, want %s", got, head)
	}
	if got := mustGit(t, wt, "rev-parse", "--abbrev-ref", "HEAD"); got != gittest.DefaultBranch {
		t.Fatalf("cloned branch = %s, want %s", got, gittest.DefaultBranch)
	}
	b, err := os.ReadFile(filepath.Join(wt, "apps/web/sub/deep.yaml"))
	if err != nil || string(b) != "deep\n" {
		t.Fatalf("cloned file = %q, %v", b, err)
	}

	mustGit(t, wt, "checkout", "-b", "kmend/fix")
	if err := os.WriteFile(filepath.Join(wt, "apps/web/deploy.yaml"), []byte("kind: Deployment\nfixed: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustGit(t, wt, "commit", "-am", "fix")
	mustGit(t, wt, "push", "origin", "kmend/fix")
	want := mustGit(t, wt, "rev-parse", "HEAD")

	got, err := s.Head("acme", "infra", "kmend/fix")
	if err != nil || got != want {
		t.Fatalf("Head = %s, %v; want %s", got, err, want)
	}
	if main, _ := s.Head("acme", "infra", "main"); main != head {
		t.Fatalf("main moved to %s", main)
	}
	for _, ref := range []string{"kmend/fix", "refs/heads/kmend/fix", want} {
		b, err := s.ReadFile("acme", "infra", ref, "apps/web/deploy.yaml")
		if err != nil || string(b) != "kind: Deployment\nfixed: true\n" {
			t.Fatalf("ReadFile at %s = %q, %v", ref, b, err)
		}
	}
	if n := s.Pushes(); n != 1 {
		t.Fatalf("Pushes = %d, want 1", n)
	}
	if _, err := s.Head("acme", "infra", "nope"); err == nil {
		t.Fatal("Head of a missing branch: no error")
	}
	if _, err := s.ReadFile("acme", "infra", "main", "missing.yaml"); err == nil {
		t.Fatal("ReadFile of a missing file: no error")
	}
	if _, err := s.ReadFile("acme", "nope", "main", "README.md"); err == nil {
		t.Fatal("ReadFile in a missing repository: no error")
	}
}

func TestCreateRepoIsDeterministic(t *testing.T) {
	files := map[string][]byte{"a/b.yaml": []byte("x\n"), "c.yaml": nil}
	a := gittest.New(t, gittest.Options{}).CreateRepo("o", "r", files)
	b := gittest.New(t, gittest.Options{}).CreateRepo("o", "r", files)
	if a != b {
		t.Fatalf("same files gave %s and %s", a, b)
	}
	c := gittest.New(t, gittest.Options{}).CreateRepo("o", "r", map[string][]byte{"a/b.yaml": []byte("y\n"), "c.yaml": nil})
	if c == a {
		t.Fatal("different files gave the same commit")
	}
}

func TestSharedRoot(t *testing.T) {
	root := t.TempDir()
	s := gittest.New(t, gittest.Options{Root: root})
	s.CreateRepo("o", "r", map[string][]byte{"f": []byte("1")})
	if s.Root() != root {
		t.Fatalf("Root = %s, want %s", s.Root(), root)
	}
	if _, err := os.Stat(filepath.Join(root, "o", "r.git", "HEAD")); err != nil {
		t.Fatalf("bare repository not at <root>/<owner>/<repo>.git: %v", err)
	}
	if want := s.URL() + "/o/r.git"; s.RepoURL("o", "r") != want {
		t.Fatalf("RepoURL = %s, want %s", s.RepoURL("o", "r"), want)
	}
}

func TestAuth(t *testing.T) {
	s := gittest.New(t, gittest.Options{
		Authorize: func(tok, owner, repo string, push bool) bool {
			switch tok {
			case "reader":
				return !push
			case "writer":
				return owner == "o" && repo == "r"
			}
			return false
		},
	})
	s.CreateRepo("o", "r", map[string][]byte{"f": []byte("1")})
	s.CreateRepo("o", "other", map[string][]byte{"f": []byte("1")})
	cases := []struct {
		name       string
		user, pass string
		repo       string
		service    string
		want       int
	}{
		{"no auth", "", "", "r", "git-upload-pack", http.StatusUnauthorized},
		{"wrong user", "someone", "writer", "r", "git-upload-pack", http.StatusUnauthorized},
		{"empty token", gittest.TokenUser, "", "r", "git-upload-pack", http.StatusUnauthorized},
		{"unknown token", gittest.TokenUser, "bogus", "r", "git-upload-pack", http.StatusUnauthorized},
		{"reader reads", gittest.TokenUser, "reader", "r", "git-upload-pack", http.StatusOK},
		{"reader may not push", gittest.TokenUser, "reader", "r", "git-receive-pack", http.StatusUnauthorized},
		{"writer pushes", gittest.TokenUser, "writer", "r", "git-receive-pack", http.StatusOK},
		{"writer not on other repo", gittest.TokenUser, "writer", "other", "git-receive-pack", http.StatusUnauthorized},
		{"missing repo", gittest.TokenUser, "reader", "missing", "git-upload-pack", http.StatusNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, s.RepoURL("o", c.repo)+"/info/refs?service="+c.service, nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.user != "" || c.pass != "" {
				req.SetBasicAuth(c.user, c.pass)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.want)
			}
			if c.want == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
				t.Fatalf("401 without a Basic challenge: %q", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}

	// The git command line: a refused push leaves the branch as it was.
	dir := t.TempDir()
	mustGit(t, dir, "clone", authURL(t, s.RepoURL("o", "r"), gittest.TokenUser, "reader"), "wt")
	wt := filepath.Join(dir, "wt")
	mustGit(t, wt, "commit", "--allow-empty", "-m", "x")
	before, _ := s.Head("o", "r", "main")
	if _, err := git(t, wt, "push", "origin", "main"); err == nil {
		t.Fatal("push with a read-only token succeeded")
	}
	if after, _ := s.Head("o", "r", "main"); after != before {
		t.Fatalf("refused push moved main from %s to %s", before, after)
	}
	if n := s.Pushes(); n != 0 {
		t.Fatalf("Pushes = %d after a refused push, want 0", n)
	}
}

func TestBreakNextPush(t *testing.T) {
	s := gittest.New(t, gittest.Options{})
	files := map[string][]byte{}
	for i := range 50 {
		files[fmt.Sprintf("dir%d/file%d.yaml", i%5, i)] = fmt.Appendf(nil, "n: %d\n", i)
	}
	base := s.CreateRepo("o", "r", files)
	dir := t.TempDir()
	mustGit(t, dir, "clone", authURL(t, s.RepoURL("o", "r"), gittest.TokenUser, token), "wt")
	wt := filepath.Join(dir, "wt")
	for i := range 20 {
		name := filepath.Join(wt, fmt.Sprintf("new/f%d.txt", i))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, bytes.Repeat(fmt.Appendf(nil, "line %d\n", i), 200), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustGit(t, wt, "add", "-A")
	mustGit(t, wt, "commit", "-m", "change")
	want := mustGit(t, wt, "rev-parse", "HEAD")

	s.BreakNextPush()
	if out, err := git(t, wt, "push", "-v", "origin", "main"); err == nil {
		t.Fatalf("broken push succeeded: %s", out)
	}
	if got, _ := s.Head("o", "r", "main"); got != base {
		t.Fatalf("broken push moved main to %s, want %s", got, base)
	}
	mustGit(t, s.RepoPath("o", "r"), "fsck")

	mustGit(t, wt, "push", "origin", "main")
	if got, _ := s.Head("o", "r", "main"); got != want {
		t.Fatalf("second push: main = %s, want %s", got, want)
	}
	if n := s.Pushes(); n != 2 {
		t.Fatalf("Pushes = %d, want 2", n)
	}
}
