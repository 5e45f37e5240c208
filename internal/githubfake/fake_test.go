package githubfake

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"
)

// appClient is a go-github client authenticated as the App (JWT).
func appClient(t *testing.T, f *Fake) *github.Client {
	t.Helper()
	app := f.App()
	tr, err := ghinstallation.NewAppsTransport(http.DefaultTransport, app.ID, app.PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	tr.BaseURL = f.URL()
	return clientAt(t, &http.Client{Transport: tr}, f.URL()+"/")
}

// installClient is a go-github client for an installation, through
// ghinstallation as kmend uses it.
func installClient(t *testing.T, f *Fake, installationID int64) (*github.Client, *ghinstallation.Transport) {
	t.Helper()
	app := f.App()
	tr, err := ghinstallation.New(http.DefaultTransport, app.ID, installationID, app.PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	tr.BaseURL = f.URL()
	tr.InstallationTokenOptions = &github.InstallationTokenOptions{}
	return clientAt(t, &http.Client{Transport: tr}, f.URL()+"/"), tr
}

// tokenClient is a go-github client with a fixed token.
func tokenClient(t *testing.T, f *Fake, token string) *github.Client {
	t.Helper()
	return clientAt(t, nil, f.URL()+"/").WithAuthToken(token)
}

func clientAt(t *testing.T, hc *http.Client, base string) *github.Client {
	t.Helper()
	c := github.NewClient(hc)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL = u
	return c
}

var sampleFiles = map[string][]byte{
	"README.md":                   []byte("# shop\n"),
	"apps/api/deployment.yaml":    []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n"),
	"apps/web/kustomization.yaml": []byte("resources:\n  - deployment.yaml\n"),
}

// TestPullRequestFlow drives the fake the way kmend will: installation
// token, branch, Git Data API commit, pull request, comments, labels,
// reactions, a check run, and a merge.
func TestPullRequestFlow(t *testing.T) {
	f := New(t, Options{})
	repo := f.AddRepo("acme", "shop", sampleFiles)
	instID := f.Install("acme")
	ctx := context.Background()
	gh, tr := installClient(t, f, instID)

	// The installation token comes from the JWT-authenticated endpoint.
	tok, err := tr.Token(ctx)
	if err != nil {
		t.Fatalf("installation token: %v", err)
	}
	if !strings.HasPrefix(tok, "ghs_") {
		t.Errorf("token %q: want ghs_ prefix", tok)
	}
	if !f.TokenAllows(tok, "acme", "shop", true) {
		t.Errorf("TokenAllows(push) = false for the installation token")
	}

	got, _, err := gh.Repositories.Get(ctx, "acme", "shop")
	if err != nil {
		t.Fatalf("get repo: %v", err)
	}
	if got.GetDefaultBranch() != "main" || got.GetID() != repo.ID {
		t.Errorf("repo: default branch %q id %d, want main %d", got.GetDefaultBranch(), got.GetID(), repo.ID)
	}

	mainRef, _, err := gh.Git.GetRef(ctx, "acme", "shop", "heads/main")
	if err != nil {
		t.Fatalf("get ref: %v", err)
	}
	base := mainRef.GetObject().GetSHA()
	if want, _ := f.Branch("acme", "shop", "main"); base != want {
		t.Errorf("main is %s, git says %s", base, want)
	}

	// A branch, then a commit through the Git Data API.
	branch := "kmend/fix-km-002"
	if _, _, err := gh.Git.CreateRef(ctx, "acme", "shop", &github.Reference{
		Ref: github.String("refs/heads/" + branch), Object: &github.GitObject{SHA: github.String(base)},
	}); err != nil {
		t.Fatalf("create ref: %v", err)
	}
	fixed := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec: {}\n"
	blob, _, err := gh.Git.CreateBlob(ctx, "acme", "shop", &github.Blob{Content: github.String(fixed), Encoding: github.String("utf-8")})
	if err != nil {
		t.Fatalf("create blob: %v", err)
	}
	baseCommit, _, err := gh.Git.GetCommit(ctx, "acme", "shop", base)
	if err != nil || baseCommit.GetSHA() != base || baseCommit.GetTree().GetSHA() == "" {
		t.Fatalf("get commit %s: %+v, %v", base, baseCommit, err)
	}
	commitTree, _ := f.treeOf(t, "acme", "shop", base)
	tree, _, err := gh.Git.CreateTree(ctx, "acme", "shop", commitTree, []*github.TreeEntry{
		{Path: github.String("apps/api/deployment.yaml"), Mode: github.String("100644"), Type: github.String("blob"), SHA: blob.SHA},
		{Path: github.String("apps/web/kustomization.yaml"), Mode: github.String("100644"), Type: github.String("blob")}, // sha null: delete
	})
	if err != nil {
		t.Fatalf("create tree: %v", err)
	}
	commit, _, err := gh.Git.CreateCommit(ctx, "acme", "shop", &github.Commit{
		Message: github.String("Fix KM-002\n"),
		Tree:    &github.Tree{SHA: tree.SHA},
		Parents: []*github.Commit{{SHA: github.String(base)}},
	}, nil)
	if err != nil {
		t.Fatalf("create commit: %v", err)
	}
	if commit.GetAuthor().GetName() != "kmend[bot]" {
		t.Errorf("commit author %q, want the App's bot", commit.GetAuthor().GetName())
	}
	if _, _, err := gh.Git.UpdateRef(ctx, "acme", "shop", &github.Reference{
		Ref: github.String("refs/heads/" + branch), Object: &github.GitObject{SHA: commit.SHA},
	}, false); err != nil {
		t.Fatalf("update ref: %v", err)
	}
	if data, err := f.File("acme", "shop", branch, "apps/api/deployment.yaml"); err != nil || string(data) != fixed {
		t.Errorf("file on branch = %q, %v; want the fixed file", data, err)
	}
	if _, err := f.File("acme", "shop", branch, "apps/web/kustomization.yaml"); err == nil {
		t.Errorf("deleted file still on the branch")
	}

	// The pull request.
	pr, _, err := gh.PullRequests.Create(ctx, "acme", "shop", &github.NewPullRequest{
		Title: github.String("Fix KM-002"), Head: github.String(branch), Base: github.String("main"),
		Body: github.String("kmend fixes"),
	})
	if err != nil {
		t.Fatalf("create PR: %v", err)
	}
	if pr.GetHead().GetSHA() != commit.GetSHA() || pr.GetBase().GetSHA() != base {
		t.Errorf("PR head/base %s/%s, want %s/%s", pr.GetHead().GetSHA(), pr.GetBase().GetSHA(), commit.GetSHA(), base)
	}
	if pr.GetChangedFiles() != 2 || pr.GetCommits() != 1 || !pr.GetMergeable() {
		t.Errorf("PR stats: files %d commits %d mergeable %v", pr.GetChangedFiles(), pr.GetCommits(), pr.GetMergeable())
	}
	if _, _, err := gh.PullRequests.Create(ctx, "acme", "shop", &github.NewPullRequest{
		Title: github.String("again"), Head: github.String(branch), Base: github.String("main"),
	}); !isStatus(err, http.StatusUnprocessableEntity) {
		t.Errorf("second PR for the same branch: %v, want 422", err)
	}

	list, _, err := gh.PullRequests.List(ctx, "acme", "shop", &github.PullRequestListOptions{Head: "acme:" + branch})
	if err != nil || len(list) != 1 || list[0].GetNumber() != pr.GetNumber() {
		t.Fatalf("list by head: %v, %v", list, err)
	}
	other, _, err := gh.PullRequests.List(ctx, "acme", "shop", &github.PullRequestListOptions{Head: "acme:other"})
	if err != nil || len(other) != 0 {
		t.Errorf("list by another head: %d PRs, %v", len(other), err)
	}

	files, _, err := gh.PullRequests.ListFiles(ctx, "acme", "shop", pr.GetNumber(), nil)
	if err != nil || len(files) != 2 {
		t.Fatalf("files: %v, %v", files, err)
	}
	if files[0].GetFilename() != "apps/api/deployment.yaml" || files[0].GetStatus() != "modified" || files[0].GetAdditions() != 1 ||
		!strings.Contains(files[0].GetPatch(), "+spec: {}") {
		t.Errorf("file 0: %s %s +%d %q", files[0].GetFilename(), files[0].GetStatus(), files[0].GetAdditions(), files[0].GetPatch())
	}
	if files[1].GetStatus() != "removed" {
		t.Errorf("file 1: %s %s", files[1].GetFilename(), files[1].GetStatus())
	}
	commits, _, err := gh.PullRequests.ListCommits(ctx, "acme", "shop", pr.GetNumber(), nil)
	if err != nil || len(commits) != 1 || commits[0].GetSHA() != commit.GetSHA() {
		t.Errorf("commits: %v, %v", commits, err)
	}

	edited, _, err := gh.PullRequests.Edit(ctx, "acme", "shop", pr.GetNumber(), &github.PullRequest{Body: github.String("new body")})
	if err != nil || edited.GetBody() != "new body" || edited.GetTitle() != "Fix KM-002" {
		t.Errorf("edit body: %q %q %v", edited.GetBody(), edited.GetTitle(), err)
	}

	// Comments, reactions, labels, assignees, reviewers.
	human := f.AddComment("acme", "shop", pr.GetNumber(), "alice", "/kmend explain")
	cm, _, err := gh.Issues.CreateComment(ctx, "acme", "shop", pr.GetNumber(), &github.IssueComment{Body: github.String("On it.")})
	if err != nil || cm.GetUser().GetLogin() != "kmend[bot]" || cm.GetUser().GetType() != "Bot" {
		t.Fatalf("comment: %v %v", cm, err)
	}
	if _, _, err := gh.Issues.EditComment(ctx, "acme", "shop", cm.GetID(), &github.IssueComment{Body: github.String("Done.")}); err != nil {
		t.Errorf("edit comment: %v", err)
	}
	rx, resp, err := gh.Reactions.CreateIssueCommentReaction(ctx, "acme", "shop", human, "eyes")
	if err != nil || resp.StatusCode != http.StatusCreated || rx.GetContent() != "eyes" {
		t.Errorf("reaction: %v %v", rx, err)
	}
	if _, resp, err := gh.Reactions.CreateIssueCommentReaction(ctx, "acme", "shop", human, "eyes"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("same reaction again: %v, want 200", err)
	}
	labels, _, err := gh.Issues.AddLabelsToIssue(ctx, "acme", "shop", pr.GetNumber(), []string{"kmend", "security"})
	if err != nil || len(labels) != 2 {
		t.Errorf("labels: %v %v", labels, err)
	}
	comments := f.Comments("acme", "shop", pr.GetNumber())
	if len(comments) != 2 || comments[1].Body != "Done." || len(comments[0].Reactions) != 1 {
		t.Errorf("comments: %+v", comments)
	}
	if got := f.Labels("acme", "shop", pr.GetNumber()); strings.Join(got, ",") != "kmend,security" {
		t.Errorf("labels: %v", got)
	}
	listed, _, err := gh.Issues.ListComments(ctx, "acme", "shop", pr.GetNumber(), nil)
	if err != nil || len(listed) != 2 || listed[0].GetReactions().GetEyes() != 1 {
		t.Errorf("list comments: %v %v", listed, err)
	}
	f.SetCollaborator("acme", "shop", "bob", "write")
	if _, _, err := gh.Issues.AddAssignees(ctx, "acme", "shop", pr.GetNumber(), []string{"bob"}); err != nil {
		t.Errorf("assign: %v", err)
	}
	if _, _, err := gh.PullRequests.RequestReviewers(ctx, "acme", "shop", pr.GetNumber(), github.ReviewersRequest{Reviewers: []string{"bob"}}); err != nil {
		t.Errorf("request review: %v", err)
	}
	perm, _, err := gh.Repositories.GetPermissionLevel(ctx, "acme", "shop", "bob")
	if err != nil || perm.GetPermission() != "write" {
		t.Errorf("bob's permission: %v %v", perm, err)
	}

	// A check run on the head commit.
	run, _, err := gh.Checks.CreateCheckRun(ctx, "acme", "shop", github.CreateCheckRunOptions{
		Name: "kmend", HeadSHA: commit.GetSHA(), Status: github.String("in_progress"),
	})
	if err != nil {
		t.Fatalf("check run: %v", err)
	}
	if len(run.PullRequests) != 1 || run.PullRequests[0].GetNumber() != pr.GetNumber() {
		t.Errorf("check run's pull requests: %v", run.PullRequests)
	}
	if _, _, err := gh.Checks.UpdateCheckRun(ctx, "acme", "shop", run.GetID(), github.UpdateCheckRunOptions{
		Name: "kmend", Conclusion: github.String("success"),
		Output: &github.CheckRunOutput{Title: github.String("2 fixes"), Summary: github.String("All verified.")},
	}); err != nil {
		t.Fatalf("update check run: %v", err)
	}
	runs, _, err := gh.Checks.ListCheckRunsForRef(ctx, "acme", "shop", branch, nil)
	if err != nil || runs.GetTotal() != 1 || runs.CheckRuns[0].GetConclusion() != "success" || runs.CheckRuns[0].GetStatus() != "completed" {
		t.Errorf("check runs for %s: %v %v", branch, runs, err)
	}

	// Merge and see it merged.
	mergeSHA := f.MergePR("acme", "shop", pr.GetNumber())
	merged, _, err := gh.PullRequests.Get(ctx, "acme", "shop", pr.GetNumber())
	if err != nil || !merged.GetMerged() || merged.GetState() != "closed" || merged.GetMergeCommitSHA() != mergeSHA || merged.MergedAt == nil {
		t.Errorf("merged PR: merged %v state %s sha %s, %v", merged.GetMerged(), merged.GetState(), merged.GetMergeCommitSHA(), err)
	}
	if data, _ := f.File("acme", "shop", "main", "apps/api/deployment.yaml"); string(data) != fixed {
		t.Errorf("main after merge: %q", data)
	}
	if prs := f.PRs("acme", "shop"); len(prs) != 1 || !prs[0].Merged || prs[0].HeadSHA != commit.GetSHA() {
		t.Errorf("PRs: %+v", prs)
	}
	open, _, err := gh.PullRequests.List(ctx, "acme", "shop", nil)
	if err != nil || len(open) != 0 {
		t.Errorf("open PRs after merge: %d %v", len(open), err)
	}

	calls := f.Calls()
	if calls["POST /repos/{owner}/{repo}/pulls"] != 2 || calls["POST /app/installations/{installation_id}/access_tokens"] != 1 {
		t.Errorf("calls: %v", calls)
	}
	if f.TotalCalls() < 25 {
		t.Errorf("total calls %d", f.TotalCalls())
	}
	f.ResetCalls()
	if f.TotalCalls() != 0 {
		t.Errorf("calls after reset: %v", f.Calls())
	}
}

// treeOf returns the tree SHA of a commit, read from git.
func (f *Fake) treeOf(t *testing.T, owner, repo, sha string) (string, error) {
	t.Helper()
	g, err := openGit(f.repoDir(owner, repo))
	if err != nil {
		t.Fatal(err)
	}
	c, err := g.resolve(sha)
	if err != nil {
		t.Fatal(err)
	}
	co, err := g.commit(c)
	if err != nil {
		t.Fatal(err)
	}
	return co.TreeHash.String(), nil
}

func isStatus(err error, status int) bool {
	var er *github.ErrorResponse
	return errors.As(err, &er) && er.Response.StatusCode == status
}

func TestEnterpriseURL(t *testing.T) {
	f := New(t, Options{})
	f.AddRepo("acme", "shop", sampleFiles)
	app := f.App()
	tr, err := ghinstallation.New(http.DefaultTransport, app.ID, f.Install("acme"), app.PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	tr.BaseURL = f.EnterpriseURL()
	tr.InstallationTokenOptions = &github.InstallationTokenOptions{}
	gh, err := github.NewClient(&http.Client{Transport: tr}).WithEnterpriseURLs(f.EnterpriseURL(), f.EnterpriseURL())
	if err != nil {
		t.Fatal(err)
	}
	if gh.BaseURL.String() != f.URL()+"/api/v3/" {
		t.Fatalf("base URL %s", gh.BaseURL)
	}
	ctx := context.Background()
	repo, _, err := gh.Repositories.Get(ctx, "acme", "shop")
	if err != nil {
		t.Fatalf("get repo through /api/v3: %v", err)
	}
	if !strings.HasPrefix(repo.GetURL(), f.URL()+"/api/v3/repos/") {
		t.Errorf("repo URL %s: want the enterprise API base", repo.GetURL())
	}
	f.SetCloneBaseURL("http://127.0.0.1:9/")
	if repo, _, err = gh.Repositories.Get(ctx, "acme", "shop"); err != nil || repo.GetCloneURL() != "http://127.0.0.1:9/acme/shop.git" {
		t.Errorf("clone_url %s %v", repo.GetCloneURL(), err)
	}
	file, _, _, err := gh.Repositories.GetContents(ctx, "acme", "shop", "apps/api/deployment.yaml", nil)
	if err != nil {
		t.Fatalf("contents through /api/v3: %v", err)
	}
	if s, _ := file.GetContent(); s != string(sampleFiles["apps/api/deployment.yaml"]) {
		t.Errorf("content %q", s)
	}
	if f.Calls()["GET /repos/{owner}/{repo}/contents/{path}"] != 1 {
		t.Errorf("calls %v", f.Calls())
	}
}

func TestInstallationTokenScope(t *testing.T) {
	f := New(t, Options{NoAutoInstall: true})
	f.AddRepo("acme", "shop", sampleFiles)
	f.AddRepo("acme", "blog", sampleFiles)
	f.AddRepo("other", "app", sampleFiles)
	inst := f.Install("acme", "shop")
	ctx := context.Background()
	gh, _ := installClient(t, f, inst)
	repos, _, err := gh.Apps.ListRepos(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if repos.GetTotalCount() != 1 || repos.Repositories[0].GetFullName() != "acme/shop" {
		t.Errorf("installation repos: %v", repos)
	}
	for _, name := range []string{"blog", "app"} {
		owner := "acme"
		if name == "app" {
			owner = "other"
		}
		if _, _, err := gh.Repositories.Get(ctx, owner, name); !isStatus(err, http.StatusNotFound) {
			t.Errorf("%s/%s outside the installation: %v, want 404", owner, name, err)
		}
	}
	installs, _, err := appClient(t, f).Apps.ListInstallations(ctx, nil)
	if err != nil || len(installs) != 1 || installs[0].GetAccount().GetLogin() != "acme" || installs[0].GetRepositorySelection() != "selected" {
		t.Errorf("installations: %v %v", installs, err)
	}
	found, _, err := appClient(t, f).Apps.FindRepositoryInstallation(ctx, "acme", "shop")
	if err != nil || found.GetID() != inst {
		t.Errorf("repository installation: %v %v", found, err)
	}
	// A token restricted to fewer permissions cannot write.
	tok, _, err := appClient(t, f).Apps.CreateInstallationToken(ctx, inst, &github.InstallationTokenOptions{
		Permissions: &github.InstallationPermissions{Contents: github.String("read")},
	})
	if err != nil {
		t.Fatal(err)
	}
	ro := tokenClient(t, f, tok.GetToken())
	if _, _, _, err := ro.Repositories.GetContents(ctx, "acme", "shop", "README.md", nil); err != nil {
		t.Errorf("read with contents:read: %v", err)
	}
	if _, _, err := ro.Git.CreateBlob(ctx, "acme", "shop", &github.Blob{Content: github.String("x")}); !isStatus(err, http.StatusForbidden) {
		t.Errorf("write with contents:read: %v, want 403", err)
	}
	if f.TokenAllows(tok.GetToken(), "acme", "shop", true) || !f.TokenAllows(tok.GetToken(), "acme", "shop", false) {
		t.Errorf("TokenAllows for a read-only token")
	}
	if !tok.GetExpiresAt().After(time.Now().Add(50 * time.Minute)) {
		t.Errorf("expires_at %v: want about an hour", tok.GetExpiresAt())
	}
}

// TestBodyLimit: GitHub refuses comment and pull request bodies over 65,536
// characters (the description does not say so; the fake does).
func TestBodyLimit(t *testing.T) {
	f := New(t, Options{})
	f.AddRepo("acme", "shop", sampleFiles)
	gh := tokenClient(t, f, f.InstallationToken(f.Install("acme")))
	ctx := context.Background()
	n := f.AddIssue("acme", "shop", "bob", "x")
	fits := strings.Repeat("é", 65536)
	if _, _, err := gh.Issues.CreateComment(ctx, "acme", "shop", n, &github.IssueComment{Body: github.String(fits)}); err != nil {
		t.Errorf("65,536 characters: %v", err)
	}
	if _, _, err := gh.Issues.CreateComment(ctx, "acme", "shop", n, &github.IssueComment{Body: github.String(fits + "x")}); !isStatus(err, http.StatusUnprocessableEntity) {
		t.Errorf("65,537 characters: %v, want 422", err)
	}
	f.Push("acme", "shop", "b", map[string][]byte{"b": []byte("b")}, "b")
	if _, _, err := gh.PullRequests.Create(ctx, "acme", "shop", &github.NewPullRequest{
		Title: github.String("t"), Head: github.String("b"), Base: github.String("main"), Body: github.String(fits + "x"),
	}); !isStatus(err, http.StatusUnprocessableEntity) {
		t.Errorf("long PR body: %v, want 422", err)
	}
}
