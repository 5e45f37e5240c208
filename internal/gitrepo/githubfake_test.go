package gitrepo_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/kmend/kmend/internal/githubfake"
	"github.com/kmend/kmend/internal/gitrepo"
)

// CommitViaAPI through go-github against the GitHub stand-in, which checks
// every call against GitHub's OpenAPI description.
func TestCommitViaAPIAgainstGitHubFake(t *testing.T) {
	fake := githubfake.New(t, githubfake.Options{})
	fake.AddRepo("acme", "shop", map[string][]byte{
		"apps/web.yaml": []byte("kind: Deployment\n"),
		"README.md":     []byte("# shop\n"),
	})
	inst := fake.Install("acme", "shop")
	c := github.NewClient(nil).WithAuthToken(fake.InstallationToken(inst))
	u, err := url.Parse(fake.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL = u
	api := gitrepo.GitHubData{Client: c}
	ctx := context.Background()
	base, err := fake.Branch("acme", "shop", "main")
	if err != nil {
		t.Fatal(err)
	}
	opts := gitrepo.CommitViaAPIOptions{
		Owner: "acme", Repo: "shop", Branch: "kmend/posture-1234abcd", BaseSHA: base,
		Message:       "kmend: harden web",
		Files:         map[string][]byte{"apps/web.yaml": []byte("kind: Deployment\nspec: {}\n")},
		Deletes:       []string{"README.md"},
		DefaultBranch: "main",
	}
	fake.ResetCalls()
	res, err := gitrepo.CommitViaAPI(ctx, api, opts)
	if err != nil || !res.Updated {
		t.Fatalf("commit: %+v, %v", res, err)
	}
	if n := fake.TotalCalls(); n > 7 {
		t.Errorf("%d API calls for one commit of 2 files: %v", n, fake.Calls())
	}
	got, err := fake.File("acme", "shop", opts.Branch, "apps/web.yaml")
	if err != nil || string(got) != "kind: Deployment\nspec: {}\n" {
		t.Fatalf("apps/web.yaml on the branch: %q, %v", got, err)
	}
	if _, err := fake.File("acme", "shop", opts.Branch, "README.md"); err == nil {
		t.Fatal("README.md not deleted on the branch")
	}
	if head, _ := fake.Branch("acme", "shop", "main"); head != base {
		t.Fatal("main moved")
	}
	again, err := gitrepo.CommitViaAPI(ctx, api, opts)
	if err != nil || again.Updated || again.SHA != res.SHA {
		t.Fatalf("replay: %+v, %v", again, err)
	}
	opts.Branch = "main"
	if _, err := gitrepo.CommitViaAPI(ctx, api, opts); err == nil {
		t.Fatal("commit to the default branch through the API was not refused")
	}
}
