package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	snapshot = "../../fixtures/live/snapshot.yaml"
	demoURL  = "https://github.com/example-shop/platform"
)

// checkout copies the sample repository, as a clone would be.
func checkout(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	if err := os.CopyFS(dir, os.DirFS("../../fixtures/demo-repo")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The live Deployment of the snapshot is traced through its Argo CD
// Application to apps/storefront/storefront.yaml and fixed there; a second
// run finds nothing left to do.
func TestFixLiveSnapshotInCheckout(t *testing.T) {
	repo := checkout(t)
	file := filepath.Join(repo, "apps/storefront/storefront.yaml")
	before := read(t, file)
	code, out, errs := kmend(t, "", "fix", snapshot, "--repo", repo, "--repo-url", demoURL, "--controls", "KM-002,KM-007")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{
		"located      Deployment/shop/storefront → " + demoURL + "//apps/storefront/storefront.yaml:18",
		"fixed  KM-002", "container web", "container nginx-exporter", "fixed 4 findings; wrote 1 files",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	after := read(t, file)
	if after == before || !strings.Contains(after, "allowPrivilegeEscalation: false") {
		t.Fatalf("storefront.yaml not fixed:\n%s", after)
	}
	// Nothing else in the checkout changed.
	for _, other := range []string{"apps/payments/deployment.yaml", "platform/log-agent/daemonset.yaml"} {
		if read(t, filepath.Join(repo, other)) != read(t, filepath.Join("../../fixtures/demo-repo", other)) {
			t.Errorf("%s changed", other)
		}
	}
	code, out, errs = kmend(t, "", "fix", snapshot, "--repo", repo, "--repo-url", demoURL, "--controls", "KM-002,KM-007")
	if code != exitOK || !strings.Contains(out, "fixed 0 findings; wrote 0 files") {
		t.Fatalf("second run: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "live only    KM-002 web: passes in the checkout's") {
		t.Errorf("second run does not say the live finding is fixed in the checkout:\n%s", out)
	}
}

// A kmend JSON report is enough: objects known only by reference are found
// by a search of the checkout.
func TestFixLiveFromReport(t *testing.T) {
	repo := checkout(t)
	code, report, errs := kmend(t, "", "scan", snapshot, "--controls", "KM-002", "-o", "json")
	if code != exitFindings {
		t.Fatalf("scan: exit %d\n%s", code, errs)
	}
	p := write(t, t.TempDir(), "live.json", report)
	code, out, errs := kmend(t, "", "fix", "--findings", p, "--repo", repo, "--dry-run", "-o", "summary")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "(via search, confidence low)") || !strings.Contains(out, "would fix 2 findings in 1 files") {
		t.Fatalf("output:\n%s", out)
	}
	if read(t, filepath.Join(repo, "apps/storefront/storefront.yaml")) != read(t, "../../fixtures/demo-repo/apps/storefront/storefront.yaml") {
		t.Fatal("--dry-run wrote a file")
	}
}

// When the Application names another repository than the checkout, the
// object is listed as elsewhere, nothing is written, and the exit code says
// not everything was fixed.
func TestFixLiveForeignRepository(t *testing.T) {
	repo := checkout(t)
	code, out, _ := kmend(t, "", "fix", snapshot, "--repo", repo, "--repo-url", "https://github.com/example-shop/other", "--controls", "KM-002")
	if code != exitFindings {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "elsewhere    Deployment/shop/storefront → "+demoURL) || !strings.Contains(out, "nothing to fix in the checkout") {
		t.Fatalf("output:\n%s", out)
	}
	if read(t, filepath.Join(repo, "apps/storefront/storefront.yaml")) != read(t, "../../fixtures/demo-repo/apps/storefront/storefront.yaml") {
		t.Fatal("a file was written")
	}
}

func TestFixLiveUsageErrors(t *testing.T) {
	repo := checkout(t)
	dir := t.TempDir()
	notReport := write(t, dir, "other.json", `{"schema":"something/else","findings":[]}`)
	broken := write(t, dir, "broken.json", `{"findings": [`)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--findings", notReport}, "give --repo DIR"},
		{[]string{"--repo", repo}, "--cluster, --findings FILE or snapshot PATHs"},
		{[]string{"--repo", filepath.Join(dir, "missing"), snapshot}, "not a directory"},
		{[]string{"--repo", repo, "--findings", notReport}, `schema "something/else"`},
		{[]string{"--repo", repo, "--findings", broken}, "not a kmend JSON report"},
		{[]string{"--repo", repo, "--findings", filepath.Join(dir, "none.json")}, "no such file"},
	} {
		code, out, errs := kmend(t, "", append([]string{"fix"}, tc.args...)...)
		if code != exitError || !strings.Contains(errs, tc.want) {
			t.Errorf("fix %v: exit %d, want 2 and %q\n%s\n%s", tc.args, code, tc.want, out, errs)
		}
	}
}
