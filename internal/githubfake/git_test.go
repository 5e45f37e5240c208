package githubfake

import (
	"context"
	"errors"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

func TestAddRepoIsARealGitRepository(t *testing.T) {
	root := t.TempDir()
	f := New(t, Options{GitRoot: root})
	repo := f.AddRepo("acme", "shop", sampleFiles)
	if repo.Dir != filepath.Join(root, "acme", "shop.git") {
		t.Errorf("dir %s", repo.Dir)
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is needed to check the repository: %v", err)
	}
	out, err := exec.Command("git", "--git-dir", repo.Dir, "ls-tree", "-r", "--name-only", "main").CombinedOutput()
	if err != nil {
		t.Fatalf("git ls-tree: %v: %s", err, out)
	}
	if got := strings.Fields(string(out)); strings.Join(got, " ") != "README.md apps/api/deployment.yaml apps/web/kustomization.yaml" {
		t.Errorf("files %v", got)
	}
	out, err = exec.Command("git", "--git-dir", repo.Dir, "fsck", "--strict").CombinedOutput()
	if err != nil {
		t.Errorf("git fsck: %v: %s", err, out)
	}
	head, err := exec.Command("git", "--git-dir", repo.Dir, "symbolic-ref", "HEAD").Output()
	if err != nil || strings.TrimSpace(string(head)) != "refs/heads/main" {
		t.Errorf("HEAD %q %v", head, err)
	}

	// A change behind the fake's back (as a push through the git server
	// would) shows at once.
	wt := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = wt
		cmd.Env = append(cmd.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_NOSYSTEM=1", "HOME="+wt)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	run("clone", "-q", repo.Dir, ".")
	run("checkout", "-q", "-b", "pushed")
	run("commit", "-q", "--allow-empty", "-m", "from git")
	run("push", "-q", "origin", "pushed")
	gh := tokenClient(t, f, f.InstallationToken(f.Install("acme")))
	ref, _, err := gh.Git.GetRef(context.Background(), "acme", "shop", "heads/pushed")
	if err != nil {
		t.Fatalf("ref pushed with git: %v", err)
	}
	if sha, _ := f.Branch("acme", "shop", "pushed"); ref.GetObject().GetSHA() != sha || sha == "" {
		t.Errorf("ref %s, git %s", ref.GetObject().GetSHA(), sha)
	}
}

func TestContentsAPI(t *testing.T) {
	f := New(t, Options{})
	f.AddRepo("acme", "shop", sampleFiles)
	gh := tokenClient(t, f, f.InstallationToken(f.Install("acme")))
	ctx := context.Background()

	_, dir, _, err := gh.Repositories.GetContents(ctx, "acme", "shop", "apps", nil)
	if err != nil || len(dir) != 2 || dir[0].GetType() != "dir" || dir[0].GetPath() != "apps/api" {
		t.Fatalf("dir: %v %v", dir, err)
	}
	_, root, _, err := gh.Repositories.GetContents(ctx, "acme", "shop", "", nil)
	if err != nil || len(root) != 2 {
		t.Errorf("root: %v %v", root, err)
	}
	file, _, _, err := gh.Repositories.GetContents(ctx, "acme", "shop", "README.md", &github.RepositoryContentGetOptions{Ref: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := gh.Repositories.GetContents(ctx, "acme", "shop", "nope.yaml", nil); !isStatus(err, http.StatusNotFound) {
		t.Errorf("missing file: %v", err)
	}

	created, resp, err := gh.Repositories.CreateFile(ctx, "acme", "shop", "docs/new.md", &github.RepositoryContentFileOptions{
		Message: github.String("add"), Content: []byte("new\n"), Branch: github.String("main"),
	})
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create file: %v", err)
	}
	if data, _ := f.File("acme", "shop", "main", "docs/new.md"); string(data) != "new\n" {
		t.Errorf("created file %q", data)
	}
	if _, _, err := gh.Repositories.UpdateFile(ctx, "acme", "shop", "README.md", &github.RepositoryContentFileOptions{
		Message: github.String("edit"), Content: []byte("x\n"),
	}); !isStatus(err, http.StatusUnprocessableEntity) {
		t.Errorf("update without sha: %v, want 422", err)
	}
	if _, _, err := gh.Repositories.UpdateFile(ctx, "acme", "shop", "README.md", &github.RepositoryContentFileOptions{
		Message: github.String("edit"), Content: []byte("x\n"), SHA: github.String(strings.Repeat("0", 40)),
	}); !isStatus(err, http.StatusConflict) {
		t.Errorf("update with a stale sha: %v, want 409", err)
	}
	updated, resp, err := gh.Repositories.UpdateFile(ctx, "acme", "shop", "README.md", &github.RepositoryContentFileOptions{
		Message: github.String("edit"), Content: []byte("x\n"), SHA: file.SHA,
	})
	if err != nil || resp.StatusCode != http.StatusOK || updated.Commit.GetSHA() == created.Commit.GetSHA() {
		t.Fatalf("update: %v", err)
	}
	if _, _, err := gh.Repositories.DeleteFile(ctx, "acme", "shop", "docs/new.md", &github.RepositoryContentFileOptions{
		Message: github.String("rm"), SHA: created.GetContent().SHA,
	}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := f.File("acme", "shop", "main", "docs/new.md"); err == nil {
		t.Errorf("deleted file still there")
	}
	branch, _, err := gh.Repositories.GetBranch(ctx, "acme", "shop", "main", 0)
	if err != nil || branch.GetCommit().GetCommit().GetMessage() != "rm" || branch.GetCommit().Parents[0].GetSHA() != updated.Commit.GetSHA() {
		t.Errorf("branch: %v %v", branch, err)
	}
	// A branch name with a slash, escaped by go-github.
	f.Push("acme", "shop", "kmend/fix", map[string][]byte{"a": []byte("a")}, "a")
	if b, _, err := gh.Repositories.GetBranch(ctx, "acme", "shop", "kmend/fix", 0); err != nil || b.GetName() != "kmend/fix" {
		t.Errorf("branch with a slash: %v %v", b.GetName(), err)
	}
	// download_url serves the raw file.
	resp2, err := http.Get(file.GetDownloadURL())
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusOK {
		t.Errorf("download_url %s: %d", file.GetDownloadURL(), resp2.StatusCode)
	}
}

func TestRefs(t *testing.T) {
	f := New(t, Options{})
	f.AddRepo("acme", "shop", sampleFiles)
	gh := tokenClient(t, f, f.InstallationToken(f.Install("acme")))
	ctx := context.Background()
	main, _ := f.Branch("acme", "shop", "main")
	next := f.Push("acme", "shop", "next", map[string][]byte{"n": []byte("n")}, "n")
	side := f.Push("acme", "shop", "side", map[string][]byte{"s": []byte("s")}, "s")

	ref := func(name, sha string) *github.Reference {
		return &github.Reference{Ref: github.String(name), Object: &github.GitObject{SHA: github.String(sha)}}
	}
	if _, _, err := gh.Git.CreateRef(ctx, "acme", "shop", ref("refs/heads/next", main)); !isStatus(err, http.StatusUnprocessableEntity) {
		t.Errorf("existing ref: %v, want 422", err)
	}
	if _, _, err := gh.Git.CreateRef(ctx, "acme", "shop", ref("refs/heads/x", strings.Repeat("1", 40))); !isStatus(err, http.StatusUnprocessableEntity) {
		t.Errorf("missing object: %v, want 422", err)
	}
	if _, _, err := gh.Git.CreateRef(ctx, "acme", "shop", ref("refs/heads/work", main)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := gh.Git.UpdateRef(ctx, "acme", "shop", ref("refs/heads/work", next), false); err != nil {
		t.Errorf("fast forward: %v", err)
	}
	if _, _, err := gh.Git.UpdateRef(ctx, "acme", "shop", ref("refs/heads/work", side), false); !isStatus(err, http.StatusUnprocessableEntity) {
		t.Errorf("not a fast forward: %v, want 422", err)
	}
	if _, _, err := gh.Git.UpdateRef(ctx, "acme", "shop", ref("refs/heads/work", side), true); err != nil {
		t.Errorf("forced: %v", err)
	}
	if sha, _ := f.Branch("acme", "shop", "work"); sha != side {
		t.Errorf("work is %s, want %s", sha, side)
	}
	if _, err := gh.Git.DeleteRef(ctx, "acme", "shop", "heads/work"); err != nil {
		t.Errorf("delete: %v", err)
	}
	if _, _, err := gh.Git.GetRef(ctx, "acme", "shop", "heads/work"); !isStatus(err, http.StatusNotFound) {
		t.Errorf("deleted ref: %v, want 404", err)
	}
	if _, err := gh.Git.DeleteRef(ctx, "acme", "shop", "heads/work"); !isStatus(err, http.StatusUnprocessableEntity) {
		t.Errorf("delete twice: %v, want 422", err)
	}
	// Trees: a folder replaced by a file, content entries, a subtree by SHA.
	base, _ := f.treeOf(t, "acme", "shop", main)
	tree, _, err := gh.Git.CreateTree(ctx, "acme", "shop", base, []*github.TreeEntry{
		{Path: github.String("apps/web"), Mode: github.String("100644"), Type: github.String("blob"), Content: github.String("now a file\n")},
		{Path: github.String("copy"), Mode: github.String("040000"), Type: github.String("tree"), SHA: github.String(base)},
	})
	if err != nil {
		t.Fatal(err)
	}
	commit, _, err := gh.Git.CreateCommit(ctx, "acme", "shop", &github.Commit{
		Message: github.String("m"), Tree: &github.Tree{SHA: tree.SHA}, Parents: []*github.Commit{{SHA: github.String(main)}},
		Author: &github.CommitAuthor{Name: github.String("Alice"), Email: github.String("alice@example.com")},
	}, nil)
	if err != nil || commit.GetAuthor().GetName() != "Alice" {
		t.Fatalf("commit: %v %v", commit, err)
	}
	if _, _, err := gh.Git.CreateRef(ctx, "acme", "shop", ref("refs/heads/tree", commit.GetSHA())); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{"apps/web": "now a file\n", "copy/apps/web/kustomization.yaml": string(sampleFiles["apps/web/kustomization.yaml"])} {
		if got, err := f.File("acme", "shop", "tree", p); err != nil || string(got) != want {
			t.Errorf("%s = %q %v", p, got, err)
		}
	}
	if _, _, err := gh.Git.CreateCommit(ctx, "acme", "shop", &github.Commit{
		Message: github.String("m"), Tree: &github.Tree{SHA: github.String(main)},
	}, nil); !isStatus(err, http.StatusUnprocessableEntity) {
		t.Errorf("commit with a commit as tree: %v, want 422", err)
	}
}

func TestPullRequestBranchUpdatesAndConflicts(t *testing.T) {
	f := New(t, Options{})
	f.AddRepo("acme", "shop", sampleFiles)
	gh := tokenClient(t, f, f.InstallationToken(f.Install("acme")))
	ctx := context.Background()
	f.Push("acme", "shop", "fix", map[string][]byte{"apps/api/deployment.yaml": []byte("fixed\n")}, "fix")
	pr, _, err := gh.PullRequests.Create(ctx, "acme", "shop", &github.NewPullRequest{
		Title: github.String("fix"), Head: github.String("acme:fix"), Base: github.String("main"),
	})
	if err != nil {
		t.Fatal(err)
	}
	n := pr.GetNumber()
	if _, _, err := gh.PullRequests.UpdateBranch(ctx, "acme", "shop", n, nil); !isStatus(err, http.StatusUnprocessableEntity) {
		t.Errorf("update-branch with nothing new on base: %v, want 422", err)
	}
	// main moves on elsewhere: update-branch merges it in.
	f.Push("acme", "shop", "main", map[string][]byte{"README.md": []byte("# shop v2\n")}, "readme")
	_, _, err = gh.PullRequests.UpdateBranch(ctx, "acme", "shop", n, nil)
	var accepted *github.AcceptedError
	if !errors.As(err, &accepted) {
		t.Fatalf("update-branch: %v, want 202 (*github.AcceptedError)", err)
	}
	got, _, err := gh.PullRequests.Get(ctx, "acme", "shop", n)
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := f.File("acme", "shop", "fix", "README.md"); string(data) != "# shop v2\n" || got.GetHead().GetSHA() == pr.GetHead().GetSHA() {
		t.Errorf("branch not updated: README %q head %s", data, got.GetHead().GetSHA())
	}
	// The same file changed on both sides: not mergeable.
	f.Push("acme", "shop", "main", map[string][]byte{"apps/api/deployment.yaml": []byte("other\n")}, "conflict")
	got, _, err = gh.PullRequests.Get(ctx, "acme", "shop", n)
	if err != nil || got.GetMergeable() || got.GetMergeableState() != "dirty" {
		t.Errorf("conflicting PR: mergeable %v state %s %v", got.GetMergeable(), got.GetMergeableState(), err)
	}
	if _, _, err := gh.PullRequests.UpdateBranch(ctx, "acme", "shop", n, nil); !isStatus(err, http.StatusUnprocessableEntity) {
		t.Errorf("update-branch with a conflict: %v, want 422", err)
	}

	// Close, reopen, list by state and base, sort.
	if _, _, err := gh.PullRequests.Edit(ctx, "acme", "shop", n, &github.PullRequest{State: github.String("closed")}); err != nil {
		t.Fatal(err)
	}
	f.Push("acme", "shop", "two", map[string][]byte{"t": []byte("t")}, "t")
	f.Push("acme", "shop", "three", map[string][]byte{"u": []byte("u")}, "u")
	for _, h := range []string{"two", "three"} {
		if _, _, err := gh.PullRequests.Create(ctx, "acme", "shop", &github.NewPullRequest{
			Title: github.String(h), Head: github.String(h), Base: github.String("main"),
		}); err != nil {
			t.Fatal(err)
		}
	}
	f.ClosePR("acme", "shop", 3)
	list := func(opts *github.PullRequestListOptions) []int {
		t.Helper()
		prs, _, err := gh.PullRequests.List(ctx, "acme", "shop", opts)
		if err != nil {
			t.Fatal(err)
		}
		var ns []int
		for _, p := range prs {
			ns = append(ns, p.GetNumber())
		}
		return ns
	}
	if got := list(nil); len(got) != 1 || got[0] != 2 {
		t.Errorf("open: %v", got)
	}
	if got := list(&github.PullRequestListOptions{State: "all"}); len(got) != 3 || got[0] != 3 {
		t.Errorf("all, newest first: %v", got)
	}
	if got := list(&github.PullRequestListOptions{State: "all", Direction: "asc"}); len(got) != 3 || got[0] != 1 {
		t.Errorf("all, oldest first: %v", got)
	}
	if got := list(&github.PullRequestListOptions{State: "closed", Base: "other"}); len(got) != 0 {
		t.Errorf("closed on another base: %v", got)
	}
	// Pagination: one per page, with a Link header.
	prs, resp, err := gh.PullRequests.List(ctx, "acme", "shop", &github.PullRequestListOptions{State: "all", ListOptions: github.ListOptions{PerPage: 1}})
	if err != nil || len(prs) != 1 || resp.NextPage != 2 || resp.LastPage != 3 {
		t.Errorf("page 1: %d PRs next %d last %d %v", len(prs), resp.NextPage, resp.LastPage, err)
	}
	if _, _, err := gh.PullRequests.Edit(ctx, "acme", "shop", n, &github.PullRequest{State: github.String("open")}); err != nil {
		t.Errorf("reopen: %v", err)
	}
	f.MergePR("acme", "shop", 2)
	if _, _, err := gh.PullRequests.Edit(ctx, "acme", "shop", 2, &github.PullRequest{State: github.String("open")}); !isStatus(err, http.StatusUnprocessableEntity) {
		t.Errorf("reopen a merged PR: %v, want 422", err)
	}
	// Deleting the head branch of an open pull request closes it.
	if _, err := gh.Git.DeleteRef(ctx, "acme", "shop", "heads/fix"); err != nil {
		t.Fatal(err)
	}
	if got, _, err := gh.PullRequests.Get(ctx, "acme", "shop", n); err != nil || got.GetState() != "closed" || got.GetMerged() {
		t.Errorf("PR after its head branch was deleted: %s merged %v %v", got.GetState(), got.GetMerged(), err)
	}
}

// TestLineMerge: changes to different lines of one file merge cleanly, as
// on GitHub.
func TestLineMerge(t *testing.T) {
	f := New(t, Options{})
	f.AddRepo("acme", "shop", map[string][]byte{"d.yaml": []byte("kind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: 1\n")})
	gh := tokenClient(t, f, f.InstallationToken(f.Install("acme")))
	ctx := context.Background()
	f.Push("acme", "shop", "fix", map[string][]byte{"d.yaml": []byte("kind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: 2\n")}, "fix")
	pr, _, err := gh.PullRequests.Create(ctx, "acme", "shop", &github.NewPullRequest{
		Title: github.String("fix"), Head: github.String("fix"), Base: github.String("main"),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.Push("acme", "shop", "main", map[string][]byte{"d.yaml": []byte("kind: Deployment\nmetadata:\n  name: api\n  labels: {a: b}\nspec:\n  replicas: 1\n")}, "label")
	got, _, err := gh.PullRequests.Get(ctx, "acme", "shop", pr.GetNumber())
	if err != nil || !got.GetMergeable() {
		t.Fatalf("mergeable %v %v", got.GetMergeable(), err)
	}
	if _, _, err := gh.PullRequests.UpdateBranch(ctx, "acme", "shop", pr.GetNumber(), nil); !errors.As(err, new(*github.AcceptedError)) {
		t.Fatalf("update-branch: %v", err)
	}
	want := "kind: Deployment\nmetadata:\n  name: api\n  labels: {a: b}\nspec:\n  replicas: 2\n"
	if data, _ := f.File("acme", "shop", "fix", "d.yaml"); string(data) != want {
		t.Errorf("merged file %q, want %q", data, want)
	}
	f.MergePR("acme", "shop", pr.GetNumber())
	if data, _ := f.File("acme", "shop", "main", "d.yaml"); string(data) != want {
		t.Errorf("main after merge %q", data)
	}
}
