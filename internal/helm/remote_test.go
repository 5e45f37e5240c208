package helm

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/helm/helmtest"
)

// remoteFixture is testdata/remote-chart: a chart to serve and a
// repository whose releases deploy it from the server.
const remoteFixture = "testdata/remote-chart"

// remoteRepo copies the repository fixture, pointing its sources at url
// (a Helm repository) and host (an OCI registry, host:port).
func remoteRepo(t *testing.T, url, host string) string {
	t.Helper()
	repo := copyTree(t, filepath.Join(remoteFixture, "repo"))
	for _, f := range listFiles(t, repo) {
		p := filepath.Join(repo, filepath.FromSlash(f))
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.ReplaceAll(bytes.ReplaceAll(data, []byte("REPO_URL"), []byte(url)), []byte("OCI_REGISTRY"), []byte(host)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return repo
}

// A HelmRelease whose chart comes from a HelmRepository is planned with
// the chart fetched from the repository (and cached): the key goes into
// spec.values, nothing else of the file changes, and the release renders
// with the control passing.
func TestRemoteHelmRelease(t *testing.T) {
	srv := helmtest.Serve(t, filepath.Join(remoteFixture, "chart"))
	repo := remoteRepo(t, srv.URL, "registry.invalid")
	cache := &ChartCache{Dir: t.TempDir()}
	r, err := HelmRelease(repo, "flux/podapp.yaml", 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Remote == nil || r.Remote.RepoURL != srv.URL || r.Remote.Name != "podapp" || r.Remote.Version != "1.2.3" || r.Chart != "" {
		t.Fatalf("%+v %+v", r, r.Remote)
	}
	cs := controls(t, "KM-002")
	res, err := PlanRelease(r, cs, Options{Renderer: Renderer{Repo: repo}, Charts: cache})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Fixes) != 1 || res.Fixes[0].KeyString() != "securityContext.allowPrivilegeEscalation" ||
		res.Fixes[0].File() != "flux/podapp.yaml" || res.Remote == nil || res.Remote.Resolved != "1.2.3" || res.Chart != "podapp-1.2.3.tgz" {
		t.Fatalf("fixes %+v, remote %+v, chart %s, manual %+v", res.Fixes, res.Remote, res.Chart, res.Manual)
	}
	if n := srv.Count("/index.yaml") + srv.Count("/charts/podapp-1.2.3.tgz"); n != 2 || srv.Total() != 2 {
		t.Errorf("first run: %v requests", srv.Requests())
	}
	before, err := os.ReadFile(filepath.Join(repo, "flux/podapp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Write(); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(filepath.Join(repo, "flux/podapp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// Only the new key's lines, under spec.values, are added.
	added := "    securityContext:\n      allowPrivilegeEscalation: false\n"
	anchor := "      tag: \"2.0.1\" # pinned by the release team\n"
	if !bytes.Contains(after, []byte(anchor+added)) || !bytes.Equal(bytes.Replace(after, []byte(added), nil, 1), before) {
		t.Fatalf("flux/podapp.yaml:\n%s", after)
	}
	if got, err := os.ReadFile(filepath.Join(repo, "flux/sources.yaml")); err != nil || bytes.Contains(got, []byte("securityContext")) {
		t.Fatalf("sources.yaml changed: %v", err)
	}

	// Rendering again: the control passes; the chart comes from the cache.
	r2, err := HelmRelease(repo, "flux/podapp.yaml", 0)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Renderer{Repo: repo}.RenderRelease(r2, cache)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].Ref.Name != "podapp-podapp" || objs[0].Template != "podapp-1.2.3.tgz/templates/deployment.yaml" {
		t.Fatalf("%+v", objs)
	}
	for _, o := range objs {
		for _, cr := range check.Run(cs, o.Object, check.Options{}) {
			t.Errorf("still fails: %s %s", cr.Control.ID, cr.Finding.Object)
		}
	}
	again, err := PlanRelease(r2, cs, Options{Renderer: Renderer{Repo: repo}, Charts: cache})
	if err != nil || len(again.Fixes) != 0 || len(again.Manual) != 0 {
		t.Fatalf("second plan: %v %+v", err, again)
	}
	if srv.Total() != 2 {
		t.Errorf("the cache was not reused: %v requests", srv.Requests())
	}
	entries, _ := filepath.Glob(filepath.Join(cache.Dir, "127.0.0.1_*", "podapp-1.2.3.tgz"))
	if len(entries) != 1 {
		t.Errorf("cache layout: %v", entries)
	}
}

// An Argo CD Application with chart: and a constraint as targetRevision:
// the index resolves it (prereleases skipped), and the key goes into a
// new helm.valuesObject.
func TestRemoteApplication(t *testing.T) {
	srv := helmtest.Serve(t, filepath.Join(remoteFixture, "chart"))
	repo := remoteRepo(t, srv.URL, "registry.invalid")
	cache := &ChartCache{Dir: t.TempDir()}
	r, err := Application(repo, "argocd/podapp.yaml", 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Remote == nil || r.Remote.Version != "~1.2.0" || r.Name != "podapp-argo" || r.Namespace != "apps" {
		t.Fatalf("%+v", r)
	}
	res, err := PlanRelease(r, controls(t, "KM-002"), Options{Renderer: Renderer{Repo: repo}, Charts: cache})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Fixes) != 1 || res.Fixes[0].Source.String() != "argocd/podapp.yaml#0 spec.source.helm.valuesObject" || res.Remote.Resolved != "1.2.3" {
		t.Fatalf("%s %+v", res.Fixes[0].Source, res.Remote)
	}
	if len(res.Files) != 1 || !bytes.Contains(res.Files[0].After, []byte("    helm:\n      releaseName: podapp-argo\n      valuesObject:\n        securityContext:\n          allowPrivilegeEscalation: false\n")) {
		t.Fatalf("%s", res.Files[0].After)
	}
	// A constraint asks the index again; the archive comes from the cache.
	if _, err := PlanRelease(r, controls(t, "KM-002"), Options{Renderer: Renderer{Repo: repo}, Charts: cache}); err != nil {
		t.Fatal(err)
	}
	if srv.Count("/index.yaml") != 2 || srv.Count("/charts/podapp-1.2.3.tgz") != 1 {
		t.Errorf("requests %v", srv.Requests())
	}
}

// Fetch failures are errors of the release naming the URL; without a
// cache (kmend fix --offline) the chart is ErrExternalChart.
func TestRemoteChartErrors(t *testing.T) {
	srv := helmtest.Serve(t, filepath.Join(remoteFixture, "chart"))
	repo := remoteRepo(t, srv.URL, "registry.invalid")
	r, err := HelmRelease(repo, "flux/podapp.yaml", 0)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Renderer: Renderer{Repo: repo}}
	if _, err := PlanRelease(r, controls(t, "KM-002"), opts); !errors.Is(err, ErrExternalChart) {
		t.Errorf("offline: %v", err)
	}

	// The archive differs from the index's digest.
	good := srv.File("/charts/podapp-1.2.3.tgz")
	srv.SetFile("/charts/podapp-1.2.3.tgz", append(bytes.Clone(good), 0))
	opts.Charts = &ChartCache{Dir: t.TempDir()}
	_, err = PlanRelease(r, controls(t, "KM-002"), opts)
	if !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), srv.URL+"/charts/podapp-1.2.3.tgz: digest mismatch") {
		t.Errorf("digest: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(opts.Charts.Dir, "*", "*.tgz")); len(m) != 0 {
		t.Errorf("a bad archive was cached: %v", m)
	}

	// The archive is missing.
	srv.SetFile("/charts/podapp-1.2.3.tgz", nil)
	_, err = PlanRelease(r, controls(t, "KM-002"), opts)
	if !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), srv.URL+"/charts/podapp-1.2.3.tgz: 404 Not Found") {
		t.Errorf("404: %v", err)
	}

	// A version the index lacks, and a repository without index.yaml.
	r.Remote.Version = "9.9.9"
	if _, err = PlanRelease(r, controls(t, "KM-002"), opts); !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), srv.URL+"/index.yaml") {
		t.Errorf("missing version: %v", err)
	}
	r.Remote.RepoURL = srv.URL + "/nowhere"
	if _, err = PlanRelease(r, controls(t, "KM-002"), opts); !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), srv.URL+"/nowhere/index.yaml: 404 Not Found") {
		t.Errorf("no index: %v", err)
	}

	// A HelmRepository that is not in the repository.
	writeTree(t, repo, map[string]string{"flux/other.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: x\n  namespace: apps\nspec:\n  chart:\n    spec:\n      chart: podapp\n      sourceRef:\n        kind: HelmRepository\n        name: charts\n"})
	if _, err := HelmRelease(repo, "flux/other.yaml", 0); !errors.Is(err, ErrExternalChart) || !strings.Contains(err.Error(), "HelmRepository apps/charts is not in the repository") {
		t.Errorf("missing HelmRepository: %v", err)
	}
}

func TestChartIndexGet(t *testing.T) {
	idx := &indexFile{APIVersion: "v1", Entries: map[string][]*indexEntry{"a": {
		{Version: "1.2.3"}, {Version: "1.10.0"}, {Version: "2.0.0-rc.1"}, {Version: "bad"}, {Version: "1.2.4"},
	}}}
	for v, want := range map[string]string{"": "1.10.0", "*": "1.10.0", "~1.2.0": "1.2.4", "1.2.3": "1.2.3", "^1": "1.10.0", ">=2.0.0-0": "2.0.0-rc.1", "bad": "bad"} {
		got, err := idx.get("a", v)
		if err != nil || got.Version != want {
			t.Errorf("get(%q) = %v, %v; want %s", v, got, err, want)
		}
	}
	if _, err := idx.get("a", "3.x"); err == nil {
		t.Error("3.x found")
	}
	if _, err := idx.get("b", ""); err == nil {
		t.Error("b found")
	}
}
