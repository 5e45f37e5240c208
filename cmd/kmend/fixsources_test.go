package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func copyFixture(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("../../fixtures", name))); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fix on a repository of kustomizations writes each fix at the narrowest
// place: the base when every overlay needs it, else a patch listed in the
// overlay; the patch files are never fixed on their own.
func TestFixKustomizeRepository(t *testing.T) {
	repo := copyFixture(t, "kustomize-repo")
	code, out, errs := kmend(t, "", "fix", repo, "--controls", "KM-010")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"new-patch in overlays/dev", "kmend-deployment-web.yaml"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	kust := read(t, filepath.Join(repo, "overlays/dev/kustomization.yaml"))
	if !strings.Contains(kust, "kmend-deployment-web.yaml") {
		t.Fatalf("the dev overlay does not list the new patch:\n%s", kust)
	}
	patch := read(t, filepath.Join(repo, "overlays/dev/kmend-deployment-web.yaml"))
	if !strings.Contains(patch, "RuntimeDefault") || !strings.Contains(patch, "name: web") {
		t.Fatalf("new patch:\n%s", patch)
	}
	code, out, _ = kmend(t, "", "fix", repo, "--controls", "KM-010")
	if code != exitOK || !strings.Contains(out, "fixed 0 findings; wrote 0 files") {
		t.Fatalf("second run: exit %d\n%s", code, out)
	}
}

// fix on a Helm chart sets the values key that controls each field and
// leaves the templates alone; --dry-run shows the diff and writes nothing.
func TestFixHelmChart(t *testing.T) {
	repo := copyFixture(t, "helm")
	chart := filepath.Join(repo, "webapp")
	values := filepath.Join(chart, "values.yaml")
	before := read(t, values)
	template := read(t, filepath.Join(chart, "templates/deployment.yaml"))

	code, out, errs := kmend(t, "", "fix", chart, "--controls", "KM-002", "--dry-run")
	if code != exitOK || !strings.Contains(out, "+++ b/") || !strings.Contains(out, "allowPrivilegeEscalation: false") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errs)
	}
	if read(t, values) != before {
		t.Fatal("--dry-run wrote values.yaml")
	}
	code, out, errs = kmend(t, "", "fix", chart, "--controls", "KM-002")
	if code != exitOK || !strings.Contains(out, "values key securityContext.allowPrivilegeEscalation: false") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	after := read(t, values)
	if after == before || !strings.Contains(after, "allowPrivilegeEscalation: false") {
		t.Fatalf("values.yaml:\n%s", after)
	}
	if read(t, filepath.Join(chart, "templates/deployment.yaml")) != template {
		t.Fatal("a template was changed")
	}
}

// A chart that does not render is reported with its file and the exit
// code says so; the other charts are still fixed.
func TestFixBrokenChartGoesOn(t *testing.T) {
	repo := copyFixture(t, "helm")
	code, out, errs := kmend(t, "", "fix", repo, "--controls", "KM-002")
	if code != exitError || !strings.Contains(errs, "broken") {
		t.Fatalf("exit %d, want 2 naming the broken chart\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(read(t, filepath.Join(repo, "umbrella/values.yaml")), "allowPrivilegeEscalation: false") {
		t.Fatal("a good chart was not fixed")
	}
}

// A chart deployed by a Flux HelmRelease or an Argo CD Application of the
// repository is fixed in that release's values, not in the chart's own.
func TestFixHelmReleases(t *testing.T) {
	repo := copyFixture(t, "helm")
	values := read(t, filepath.Join(repo, "webapp/values.yaml"))
	code, out, errs := kmend(t, "", "fix", repo, "--controls", "KM-002")
	if !strings.Contains(out, "flux/webapp.yaml") || !strings.Contains(out, "argocd/apps.yaml") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, f := range []string{"flux/webapp.yaml", "argocd/apps.yaml"} {
		if !strings.Contains(read(t, filepath.Join(repo, f)), "allowPrivilegeEscalation: false") {
			t.Errorf("%s not fixed", f)
		}
	}
	if read(t, filepath.Join(repo, "webapp/values.yaml")) != values {
		t.Error("the chart's own values were changed although releases deploy it")
	}
}
