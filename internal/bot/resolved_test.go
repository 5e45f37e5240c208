package bot

import (
	"strings"
	"testing"
)

// The findings of an open pull request are fixed on main by a person: the
// pull request is closed with one comment saying why, whether findings
// kmend cannot fix remain (the group still exists) or none at all do (the
// group is gone).
func TestResolvedOnMainCloses(t *testing.T) {
	for _, tc := range []struct {
		name string
		// resolve is what the person pushes, given the fixed file on
		// kmend's branch.
		resolve func(t *testing.T, fixed []byte) map[string][]byte
	}{
		{"fix applied by hand", func(t *testing.T, fixed []byte) map[string][]byte {
			return map[string][]byte{"apps/storefront/storefront.yaml": fixed}
		}},
		{"workload replaced by a clean one", func(t *testing.T, _ []byte) map[string][]byte {
			return map[string][]byte{"apps/storefront/storefront.yaml": fixture(t, "apps/catalog-api/catalog-api.yaml")}
		}},
		{"manifest deleted", func(t *testing.T, _ []byte) map[string][]byte {
			return map[string][]byte{"apps/storefront/storefront.yaml": nil, "README.md": []byte("# moved\n")}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, map[string][]byte{"apps/storefront/storefront.yaml": fixture(t, "apps/storefront/storefront.yaml")})
			h.handle("push", "d-1", h.push("apps/storefront/storefront.yaml"))
			prs := h.fake.PRs(owner, name)
			if len(prs) != 1 {
				t.Fatalf("%d pull requests", len(prs))
			}
			fixed, err := h.fake.File(owner, name, prs[0].Head, "apps/storefront/storefront.yaml")
			if err != nil {
				t.Fatal(err)
			}
			h.fake.Push(owner, name, "main", tc.resolve(t, fixed), "resolved by hand")
			h.handle("push", "d-2", h.push("apps/storefront/storefront.yaml"))
			prs = h.fake.PRs(owner, name)
			if len(prs) != 1 || prs[0].State != "closed" || prs[0].Merged {
				t.Fatalf("after the findings were resolved on main: %+v, want the pull request closed", prs)
			}
			cs := h.fake.Comments(owner, name, prs[0].Number)
			if len(cs) != 1 || !strings.Contains(cs[0].Body, "no longer in `main`") {
				t.Fatalf("comments %+v, want one saying why", cs)
			}
			// Again: nothing more.
			h.handle("push", "d-3", h.push("apps/storefront/storefront.yaml"))
			if again := h.fake.PRs(owner, name); len(again) != 1 || len(h.fake.Comments(owner, name, prs[0].Number)) != 1 {
				t.Fatalf("a replay changed something: %+v", again)
			}
		})
	}
}

// With one pull request per directory, the directory whose workloads are
// all gone has its pull request closed; the others stay.
func TestResolvedGroupClosesByDirectory(t *testing.T) {
	h := newHarness(t, map[string][]byte{
		".github/kmend.yaml":              []byte("version: 1\ngrouping: directory\n"),
		"apps/storefront/storefront.yaml": fixture(t, "apps/storefront/storefront.yaml"),
		"apps/payments/deployment.yaml":   fixture(t, "apps/payments/deployment.yaml"),
	})
	h.handle("push", "d-1", h.push("apps/storefront/storefront.yaml"))
	prs := h.fake.PRs(owner, name)
	if len(prs) != 2 {
		t.Fatalf("%d pull requests, want one per directory", len(prs))
	}
	h.fake.Push(owner, name, "main", map[string][]byte{"apps/storefront/storefront.yaml": nil}, "storefront retired")
	h.handle("push", "d-2", h.push("apps/storefront/storefront.yaml"))
	prs = h.fake.PRs(owner, name)
	if len(prs) != 2 {
		t.Fatalf("%d pull requests, want still 2", len(prs))
	}
	for _, pr := range prs {
		storefront := strings.Contains(pr.Body, "apps/storefront/storefront.yaml")
		want := "open"
		if storefront {
			want = "closed"
		}
		if pr.State != want {
			t.Errorf("#%d (storefront %v): %s, want %s", pr.Number, storefront, pr.State, want)
		}
		wantComments := 0
		if storefront {
			wantComments = 1
		}
		if n := len(h.fake.Comments(owner, name, pr.Number)); n != wantComments {
			t.Errorf("#%d: %d comments, want %d", pr.Number, n, wantComments)
		}
	}
}

// A pull request kmend closed because its findings were gone is not a
// person declining them: when they come back, kmend proposes them again,
// as its closing comment promises.
func TestResolvedFindingsComeBack(t *testing.T) {
	risky := fixture(t, "apps/storefront/storefront.yaml")
	h := newHarness(t, map[string][]byte{"apps/storefront/storefront.yaml": risky})
	h.handle("push", "d-1", h.push("apps/storefront/storefront.yaml"))
	h.fake.Push(owner, name, "main", map[string][]byte{"apps/storefront/storefront.yaml": nil}, "storefront retired")
	h.handle("push", "d-2", h.push("apps/storefront/storefront.yaml"))
	if prs := h.fake.PRs(owner, name); len(prs) != 1 || prs[0].State != "closed" {
		t.Fatalf("after the findings went: %s", prSummary(prs))
	}
	h.fake.Push(owner, name, "main", map[string][]byte{"apps/storefront/storefront.yaml": risky}, "storefront is back")
	h.handle("push", "d-3", h.push("apps/storefront/storefront.yaml"))
	prs := h.fake.PRs(owner, name)
	if len(prs) != 2 || prs[1].State != "open" || prs[1].Head != prs[0].Head {
		t.Fatalf("after the findings came back: %s, want a new pull request on the same branch", prSummary(prs))
	}
	// A pull request a person closes still declines its findings.
	h.fake.ClosePR(owner, name, prs[1].Number)
	h.handle("push", "d-4", h.push("apps/storefront/storefront.yaml"))
	if prs := h.fake.PRs(owner, name); len(prs) != 2 {
		t.Fatalf("a declined pull request was proposed again: %s", prSummary(prs))
	}
}
