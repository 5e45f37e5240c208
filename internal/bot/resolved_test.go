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
