package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmend/kmend/internal/helm/helmtest"
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

// remoteChart is the chart and repository fixture of internal/helm's
// tests of charts from Helm repositories.
const remoteChart = "../../internal/helm/testdata/remote-chart"

// remoteRepository copies the repository fixture with its sources pointing
// at url (a Helm repository) and host (an OCI registry, host:port), and a
// plain Deployment that fix fixes on its own.
func remoteRepository(t *testing.T, url, host string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(remoteChart, "repo"))); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(p, bytes.ReplaceAll(bytes.ReplaceAll(data, []byte("REPO_URL"), []byte(url)), []byte("OCI_REGISTRY"), []byte(host)), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "plain/web.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n")
	return dir
}

// Flux HelmReleases and Argo CD Applications whose chart comes from a Helm
// repository or an OCI registry (a HelmRepository of type oci, a chartRef
// to an OCIRepository, an Application's chart: without a scheme) are fixed
// in their values, with the chart fetched once and cached; --offline
// leaves them alone without a request; a chart that cannot be fetched is
// an error of its release, and the rest is still fixed.
func TestFixHelmReleaseFromHelmRepository(t *testing.T) {
	srv := helmtest.Serve(t, filepath.Join(remoteChart, "chart"))
	reg := helmtest.ServeOCI(t, filepath.Join(remoteChart, "chart"))
	host := strings.TrimSuffix(strings.TrimPrefix(reg.URL, "oci://"), "/charts")
	repo := remoteRepository(t, srv.URL, host)
	cache := t.TempDir()
	release := filepath.Join(repo, "flux/podapp.yaml")
	before := read(t, release)

	code, out, errs := kmend(t, "", "fix", repo, "--controls", "KM-002", "--offline", "--chart-cache", cache)
	if code != exitOK || read(t, release) != before || srv.Total() != 0 || reg.Total() != 0 {
		t.Fatalf("--offline: exit %d, %d + %d requests\n%s\n%s", code, srv.Total(), reg.Total(), out, errs)
	}
	for _, want := range []string{"HelmRelease apps/podapp: chart podapp 1.2.3 from " + srv.URL + ": chart is not in the repository",
		"HelmRelease apps/podapp-oci: chart podapp 1.2.3 from " + reg.URL + ": chart is not in the repository (charts are not fetched offline)",
		"HelmRelease apps/podapp-ref: chart podapp >=1.0.0 <2.0.0 from " + reg.URL + ": chart is not in the repository",
		"Application podapp-oci: chart podapp 1.2.3 from " + reg.URL + ": chart is not in the repository"} {
		if !strings.Contains(errs, want) {
			t.Errorf("--offline: stderr lacks %q:\n%s", want, errs)
		}
	}

	code, out, errs = kmend(t, "", "fix", repo, "--controls", "KM-002", "--chart-cache", cache)
	if code != exitOK || !strings.Contains(out, "values key securityContext.allowPrivilegeEscalation: false") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	added := "    securityContext:\n      allowPrivilegeEscalation: false\n"
	after := read(t, release)
	if !strings.Contains(after, added) || strings.Replace(after, added, "", 1) != before {
		t.Fatalf("flux/podapp.yaml:\n%s", after)
	}
	if !strings.Contains(read(t, filepath.Join(repo, "argocd/podapp.yaml")), "valuesObject:\n        securityContext:\n          allowPrivilegeEscalation: false\n") {
		t.Errorf("argocd/podapp.yaml:\n%s", read(t, filepath.Join(repo, "argocd/podapp.yaml")))
	}
	for _, f := range []string{"flux/podapp-oci.yaml", "flux/podapp-ref.yaml", "argocd/podapp-oci.yaml"} {
		if !strings.Contains(read(t, filepath.Join(repo, f)), "securityContext:\n") || !strings.Contains(read(t, filepath.Join(repo, f)), "allowPrivilegeEscalation: false\n") {
			t.Errorf("%s:\n%s", f, read(t, filepath.Join(repo, f)))
		}
	}
	first, firstOCI := srv.Total(), reg.Total()

	// Second run: nothing to fix; the exact version is read from the
	// cache, the Application's constraint asks the index only.
	code, out, errs = kmend(t, "", "fix", repo, "--controls", "KM-002", "--chart-cache", cache)
	if code != exitOK || !strings.Contains(out, "fixed 0 findings") {
		t.Fatalf("second run: exit %d\n%s\n%s", code, out, errs)
	}
	if n := srv.Total() - first; n != 1 {
		t.Errorf("second run: %d requests, want 1 (the Application's index)", n)
	}
	// The registry: the OCIRepository's constraint lists the tags; the
	// exact versions are cached.
	if n, tags := reg.Total()-firstOCI, reg.Requests()["GET /v2/charts/podapp/tags/list"]; n != 1 || tags != 2 {
		t.Errorf("second run: %d registry requests, want 1 (the tags): %v", n, reg.Requests())
	}

	// A chart that cannot be fetched: an error naming the URL; the plain
	// Deployment is still fixed.
	srv.SetFile("/charts/podapp-1.2.3.tgz", nil)
	repo = remoteRepository(t, srv.URL, host)
	code, out, errs = kmend(t, "", "fix", repo, "--controls", "KM-002", "--chart-cache", t.TempDir())
	if code != exitError || !strings.Contains(errs, "HelmRelease apps/podapp: "+srv.URL+"/charts/podapp-1.2.3.tgz: 404 Not Found") {
		t.Fatalf("404: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(read(t, filepath.Join(repo, "plain/web.yaml")), "allowPrivilegeEscalation: false") {
		t.Errorf("the plain Deployment was not fixed:\n%s", out)
	}
}

// Two releases whose fixes change the same file (two HelmReleases in one
// file): each release is planned against the file as it is on disk, so the
// second is set aside while the first is planned, never written over it.
// With --dry-run it is reported as not fixed (exit 1); kmend fix plans it
// again once the first is written, and both are fixed in one run.
func TestFixTwoReleasesInOneFile(t *testing.T) {
	repo := copyFixture(t, "helm")
	file := filepath.Join(repo, "flux/webapp.yaml")
	second := "---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: webapp-canary\n  namespace: web\nspec:\n  interval: 10m\n  chart:\n    spec:\n      chart: ./webapp\n      sourceRef:\n        kind: GitRepository\n        name: platform\n        namespace: flux-system\n  values:\n    replicaCount: 1\n"
	if err := os.WriteFile(file, append([]byte(read(t, file)), second...), 0o644); err != nil {
		t.Fatal(err)
	}
	fixedIn := func(f string) int {
		return strings.Count(read(t, filepath.Join(repo, f)), "allowPrivilegeEscalation: false")
	}
	code, out, errs := kmend(t, "", "fix", "--dry-run", repo, "--controls", "KM-002")
	if !strings.Contains(errs, "release web/webapp-canary (chart webapp): flux/webapp.yaml is also changed by the fix of release web/webapp") || code == 0 {
		t.Errorf("--dry-run: the release set aside is not reported (exit %d, want not 0):\n%s", code, errs)
	}
	if fixedIn("flux/webapp.yaml") != 0 {
		t.Fatal("--dry-run wrote")
	}
	code, out, errs = kmend(t, "", "fix", repo, "--controls", "KM-002")
	if fixedIn("flux/webapp.yaml") != 2 || fixedIn("argocd/apps.yaml") != 2 {
		t.Fatalf("one run fixed %d of the 2 HelmReleases of flux/webapp.yaml and %d of the 2 Applications of argocd/apps.yaml (exit %d)\n%s\n%s\n%s",
			fixedIn("flux/webapp.yaml"), fixedIn("argocd/apps.yaml"), code, out, errs, read(t, file))
	}
	// storefront, umbrella, argocd/apps.yaml and flux/webapp.yaml: the last
	// two written twice, counted once.
	if !strings.Contains(out, "wrote 4 files") {
		t.Errorf("the files written are not counted once each:\n%s", out)
	}
	if strings.Contains(errs, "also changed by the fix of") {
		t.Errorf("a release planned again is still reported as not fixed:\n%s", errs)
	}
	for _, want := range []string{"webapp-canary", "webapp-legacy"} {
		if !strings.Contains(out, want) {
			t.Errorf("the fix of %s is not reported:\n%s", want, out)
		}
	}
}

// A Deployment in the file of a HelmRelease: the release's fix (its values)
// and the Deployment's own fix change the same file. The Deployment's is
// made on the file as the release's fix wrote it, never over it; with
// --dry-run it is reported as not made (exit not 0).
func TestFixPlainObjectNextToRelease(t *testing.T) {
	repo := copyFixture(t, "helm")
	file := filepath.Join(repo, "flux/webapp.yaml")
	side := "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: side\nspec:\n  selector:\n    matchLabels: {app: side}\n  template:\n    metadata:\n      labels: {app: side}\n    spec:\n      containers:\n        - name: side\n          image: nginx:1.27\n"
	if err := os.WriteFile(file, append([]byte(read(t, file)), side...), 0o644); err != nil {
		t.Fatal(err)
	}
	fixed := func() int { return strings.Count(read(t, file), "allowPrivilegeEscalation: false") }
	code, _, errs := kmend(t, "", "fix", "--dry-run", repo, "--controls", "KM-002")
	if !strings.Contains(errs, "flux/webapp.yaml: the file is also changed by a kustomize or Helm fix") || code == 0 {
		t.Errorf("--dry-run: the Deployment's fix left for after the release's is not reported (exit %d):\n%s", code, errs)
	}
	code, out, errs := kmend(t, "", "fix", repo, "--controls", "KM-002")
	if fixed() != 2 || !strings.Contains(out, "Deployment/side container side") {
		t.Fatalf("one run made %d of the 2 fixes of flux/webapp.yaml (exit %d)\n%s\n%s\n%s", fixed(), code, out, errs, read(t, file))
	}
}
