package render

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/remediate"
	"github.com/kmend/kmend/internal/yamledit"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// demoRepo is the sample repository; files are named relative to it, as
// they are in a checkout.
const demoRepo = "../../fixtures/demo-repo"

func builtin(t testing.TB) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// demoChangeSet runs remediate on files of the demo repository.
func demoChangeSet(t testing.TB, fixability []finding.Fixability, files ...string) ChangeSet {
	t.Helper()
	var parsed []*yamledit.File
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(demoRepo, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		f, err := yamledit.Parse(name, data, yamledit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, f)
	}
	controls := builtin(t).All()
	results := remediate.Run(manifest.FromFiles(parsed...), controls, remediate.Options{Fixability: fixability})
	cs, err := FromResults(results, controls, check.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cs.Repo, cs.Base, cs.Head = "acme/platform", "main", "kmend/harden-payments"
	cs.Group = Group{Key: "directory/apps/payments", Title: "payments"}
	return cs
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/render -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (go test ./internal/render -update rewrites it):\n%s", name, firstDiff(string(want), got))
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g
		}
	}
	return "(same lines, different ending)"
}

// joined writes a Rendered as one file: title, body, then each comment.
func joined(r Rendered) string {
	var b strings.Builder
	b.WriteString("=== title\n" + r.Title + "\n=== body\n" + r.Body)
	for i, c := range r.Comments {
		b.WriteString("=== comment " + itoa(i+1) + "\n" + c)
	}
	return b.String()
}

func TestGoldenPayments(t *testing.T) {
	cs := demoChangeSet(t, nil, "apps/payments/deployment.yaml")
	if len(cs.Fixes) == 0 || len(cs.Left) == 0 || len(cs.Files) != 1 {
		t.Fatalf("the payments change set should have fixes, findings left and one diff: %d fixes, %d left, %d files", len(cs.Fixes), len(cs.Left), len(cs.Files))
	}
	r, err := PR(cs, Options{BlobURL: "https://github.com/acme/platform/blob/main"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Comments) != 0 {
		t.Errorf("a small change set needs no comments, got %d", len(r.Comments))
	}
	checkMarkdown(t, r)
	golden(t, "payments.md", joined(r))
}

func TestGoldenReview(t *testing.T) {
	// With review fixes applied, the privileged container is changed too,
	// and the table asks for a reviewer's confirmation.
	cs := demoChangeSet(t, []finding.Fixability{finding.FixAuto, finding.FixReview}, "apps/payments/deployment.yaml")
	cs.Group = Group{Key: "repository", Title: ""}
	r, err := PR(cs, Options{FoldDiffLines: -1})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Body, "*review*: ") || !strings.Contains(r.Body, "<details><summary>apps/payments/deployment.yaml · +") {
		t.Error("review fixes are not marked, or diffs are not folded")
	}
	checkMarkdown(t, r)
	golden(t, "review.md", joined(r))
}

func TestLeftOnly(t *testing.T) {
	cs := demoChangeSet(t, nil, "apps/payments/deployment.yaml")
	cs.Fixes, cs.Files = nil, nil
	r, err := PR(cs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkMarkdown(t, r)
	if r.Title != "kmend: 12 findings to review in payments" || !strings.Contains(r.Body, "kmend found **12 findings** in payments that it does not change on its own") {
		t.Errorf("title %q, body:\n%.400s", r.Title, r.Body)
	}
	if strings.Contains(r.Body, "### Fixed findings") || strings.Contains(r.Body, "### Changes") || !strings.Contains(r.Body, "### Apply by hand") {
		t.Error("a change set without fixes shows only what is left, with its patches")
	}
	if m, err := ParseMetadata(r.Body); err != nil || len(m.Fingerprints) != 0 {
		t.Errorf("metadata %+v, %v", m, err)
	}
	cs.Fixes = []Fix{{File: "x.yaml"}}
	if _, err := PR(cs, Options{}); err == nil {
		t.Error("a fix without findings is not an error")
	}
}

func TestTitles(t *testing.T) {
	cs := demoChangeSet(t, nil, "apps/payments/deployment.yaml")
	for _, c := range []struct {
		group Group
		want  string
	}{
		{Group{Key: "repository"}, "kmend: harden 1 workload (4 controls)"},
		{Group{Key: "x", Title: "payments\n`prod`"}, "kmend: harden 1 workload in payments `prod` (4 controls)"},
		{Group{Key: "x", Title: strings.Repeat("long ", 40)}, "kmend: harden 1 workload in " + strings.Repeat("long ", 15) + "long… (4 controls)"},
	} {
		cs.Group = c.group
		cs.Repo = ""
		r, err := PR(cs, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Title != c.want {
			t.Errorf("title = %q, want %q", r.Title, c.want)
		}
	}
}
