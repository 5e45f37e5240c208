package bot

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
)

// A settings file that does not decode gets a failed check run naming the
// line, and kmend publishes nothing for that repository until it is fixed.
func TestBadSettingsOnDefaultBranch(t *testing.T) {
	h := newHarness(t, map[string][]byte{
		"apps/storefront/storefront.yaml": fixture(t, "apps/storefront/storefront.yaml"),
		".github/kmend.yaml":              []byte("version: 1\ngrouping: by-team\n"),
	})
	h.handle("push", "d-bad", h.push(".github/kmend.yaml"))
	if prs := h.fake.PRs(owner, name); len(prs) != 0 {
		t.Fatalf("pull requests opened with invalid settings: %+v", prs)
	}
	runs := h.fake.CheckRuns(owner, name)
	if len(runs) != 1 || runs[0].Name != CheckName || runs[0].Conclusion != "failure" ||
		!strings.Contains(runs[0].Summary, ".github/kmend.yaml:2") || !strings.Contains(runs[0].Summary, "grouping") {
		t.Fatalf("check runs: %+v", runs)
	}
	// Fixed: a success check run, and the pull request.
	h.fake.Push(owner, name, "main", map[string][]byte{".github/kmend.yaml": []byte("version: 1\ngrouping: control\n")}, "fix settings")
	h.handle("push", "d-good", h.push(".github/kmend.yaml"))
	runs = h.fake.CheckRuns(owner, name)
	if last := runs[len(runs)-1]; last.Conclusion != "success" {
		t.Fatalf("after the fix: %+v", last)
	}
	// grouping: control gives one pull request per control, each on its
	// own branch.
	prs := h.fake.PRs(owner, name)
	if len(prs) != 3 {
		t.Fatalf("grouping by control: %d pull requests, want 3 (KM-002, KM-007, KM-010)", len(prs))
	}
	seen := map[string]bool{}
	for _, pr := range prs {
		if seen[pr.Head] || !strings.HasPrefix(pr.Head, "kmend/km-0") {
			t.Fatalf("branches: %+v", prs)
		}
		seen[pr.Head] = true
	}
}

// A pull request that changes the settings file gets a check run on its
// head commit.
func TestSettingsPullRequestChecked(t *testing.T) {
	h := newHarness(t, map[string][]byte{"README.md": []byte("# platform\n")})
	head := h.fake.Push(owner, name, "settings", map[string][]byte{".github/kmend.yaml": []byte("version: 2\n")}, "settings")
	c := github.NewClient(nil).WithAuthToken(h.fake.InstallationToken(h.inst))
	c.BaseURL, _ = url.Parse(h.fake.URL() + "/")
	pr, _, err := c.PullRequests.Create(context.Background(), owner, name, &github.NewPullRequest{
		Title: github.String("settings"), Head: github.String("settings"), Base: github.String("main"),
	})
	if err != nil {
		t.Fatal(err)
	}
	h.handle("pull_request", "d-pr", h.payload("pull_request.opened", func(m map[string]any) {
		m["number"] = pr.GetNumber()
		p := m["pull_request"].(map[string]any)
		p["number"] = pr.GetNumber()
		hd := p["head"].(map[string]any)
		hd["ref"], hd["sha"] = "settings", head
		hd["repo"] = m["repository"]
		p["base"].(map[string]any)["ref"] = "main"
	}))
	runs := h.fake.CheckRuns(owner, name)
	if len(runs) != 1 || runs[0].HeadSHA != head || runs[0].Conclusion != "failure" || !strings.Contains(runs[0].Summary, "version") {
		t.Fatalf("check runs: %+v", runs)
	}
}

// commits: api makes the commits through GitHub's Git Data API (GitHub
// signs them); the pull request is the same.
func TestCommitsThroughAPI(t *testing.T) {
	h := newHarness(t, map[string][]byte{
		"apps/storefront/storefront.yaml": fixture(t, "apps/storefront/storefront.yaml"),
		".github/kmend.yaml":              []byte("version: 1\ncommits: api\n"),
	})
	pushes := h.git.Pushes()
	h.fake.ResetCalls()
	h.handle("push", "d-api", h.push("apps/storefront/storefront.yaml"))
	prs := h.fake.PRs(owner, name)
	if len(prs) != 1 {
		t.Fatalf("%d pull requests", len(prs))
	}
	if h.git.Pushes() != pushes {
		t.Fatal("kmend pushed over git although commits: api")
	}
	if h.fake.Calls()["POST /repos/{owner}/{repo}/git/commits"] != 1 {
		t.Fatalf("no API commit: %v", h.fake.Calls())
	}
	fixed, err := h.fake.File(owner, name, prs[0].Head, "apps/storefront/storefront.yaml")
	if err != nil || !strings.Contains(string(fixed), "allowPrivilegeEscalation: false") {
		t.Fatalf("branch content: %v\n%s", err, fixed)
	}
	// The same push again changes nothing.
	head := prs[0].HeadSHA
	h.handle("push", "d-api-2", h.push("apps/storefront/storefront.yaml"))
	if prs := h.fake.PRs(owner, name); len(prs) != 1 || prs[0].HeadSHA != head {
		t.Fatalf("replay changed the pull request: %+v", prs)
	}
}
