package helm

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/helm/helmtest"
)

// ociRepo serves the remote chart from an OCI registry and copies the
// repository fixture pointing at it.
func ociRepo(t *testing.T) (*helmtest.Registry, string) {
	t.Helper()
	reg := helmtest.ServeOCI(t, filepath.Join(remoteFixture, "chart"))
	return reg, remoteRepo(t, "http://helm.invalid", strings.TrimSuffix(strings.TrimPrefix(reg.URL, "oci://"), "/charts"))
}

// Fetching from an OCI registry with Helm's registry client: an exact
// version is the tag, a constraint is resolved against the tags, a digest
// pins the manifest; an exact version or a digest already cached is read
// without any request, even with the registry gone.
func TestOCIFetch(t *testing.T) {
	reg := helmtest.ServeOCI(t, filepath.Join(remoteFixture, "chart"))
	cache := &ChartCache{Dir: t.TempDir()}
	fetch := func(rc RemoteChart) RemoteChart {
		t.Helper()
		rc.RepoURL, rc.Name = cmp(rc.RepoURL, reg.URL), cmp(rc.Name, "podapp")
		files, res, err := cache.Fetch(rc)
		if err != nil {
			t.Fatalf("%+v: %v", rc, err)
		}
		if v, err := chartVersion(files); err != nil || v != res.Resolved {
			t.Fatalf("%+v: the archive's version is %q (%v), resolved %q", rc, v, err, res.Resolved)
		}
		return res
	}
	if res := fetch(RemoteChart{Version: "1.2.3"}); res.Resolved != "1.2.3" {
		t.Errorf("exact: %+v", res)
	}
	if n := reg.Requests()["GET /v2/charts/podapp/tags/list"]; n != 0 {
		t.Errorf("an exact version listed the tags: %v", reg.Requests())
	}
	for v, want := range map[string]string{"~1.2.0": "1.2.3", "": "1.2.3", "*": "1.2.3", "1.1.x": "1.1.0", ">=2.0.0-0": "2.0.0-rc.1"} {
		if res := fetch(RemoteChart{Version: v}); res.Resolved != want {
			t.Errorf("constraint %q: resolved %q, want %s", v, res.Resolved, want)
		}
	}
	if res := fetch(RemoteChart{Digest: reg.Digests["1.1.0"]}); res.Resolved != "1.1.0" {
		t.Errorf("digest: %+v", res)
	}
	// A tag that is not a version: pulled every time, cached by digest.
	for range 2 {
		n := reg.Total()
		if res := fetch(RemoteChart{Version: "latest"}); res.Resolved != "1.2.3" || reg.Total() == n {
			t.Errorf("latest: %+v, %d requests", res, reg.Total()-n)
		}
	}
	for _, p := range []string{"podapp-1.2.3.tgz", "podapp-1.1.0.tgz", "podapp-2.0.0-rc.1.tgz", ociCacheName("podapp", reg.Digests["1.1.0"]), ociCacheName("podapp", reg.Digests["latest"])} {
		if m, _ := filepath.Glob(filepath.Join(cache.Dir, "127.0.0.1_*-*", p)); len(m) != 1 {
			t.Errorf("cache layout: %s: %v", p, m)
		}
	}

	// Cached: no request for an exact version or a digest.
	n := reg.Total()
	fetch(RemoteChart{Version: "1.2.3"})
	fetch(RemoteChart{Digest: reg.Digests["1.1.0"]})
	if reg.Total() != n {
		t.Errorf("cached reads asked the registry: %d requests", reg.Total()-n)
	}
	reg.Close()
	fetch(RemoteChart{Version: "1.2.3"})
	fetch(RemoteChart{Digest: reg.Digests["1.1.0"]})
	if _, _, err := cache.Fetch(RemoteChart{RepoURL: reg.URL, Name: "podapp", Version: "~1.2.0"}); !errors.Is(err, ErrFetch) ||
		!strings.Contains(err.Error(), "tags of "+reg.URL+"/podapp") {
		t.Errorf("a constraint with the registry gone: %v", err)
	}
}

// A tag or a digest the registry lacks, a constraint no tag meets: ErrFetch
// naming the reference. Names, versions, digests and URLs that could leave
// the cache directory are refused before any request.
func TestOCIFetchErrors(t *testing.T) {
	reg := helmtest.ServeOCI(t, filepath.Join(remoteFixture, "chart"))
	cache := &ChartCache{Dir: filepath.Join(t.TempDir(), "cache")}
	missing := "sha256:" + strings.Repeat("0", 64)
	for _, tc := range []struct {
		rc   RemoteChart
		want string
	}{
		{RemoteChart{Version: "9.9.9"}, "pull " + reg.URL + "/podapp:9.9.9: "},
		{RemoteChart{Version: "3.x"}, "no tag meets 3.x (3 semver tags)"},
		{RemoteChart{Digest: missing}, "pull " + reg.URL + "/podapp@" + missing + ": "},
		{RemoteChart{Name: "other", Version: "1.2.3"}, "pull " + reg.URL + "/other:1.2.3: "},
	} {
		tc.rc.RepoURL, tc.rc.Name = reg.URL, cmp(tc.rc.Name, "podapp")
		_, _, err := cache.Fetch(tc.rc)
		t.Log(err)
		if !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.rc, err, tc.want)
		}
	}
	n := reg.Total()
	for _, rc := range []RemoteChart{
		{Name: "../../escape", Version: "1.2.3"},
		{Name: "podapp/../../../escape", Version: "1.2.3"},
		{Name: "podapp", Version: "../../../escape"},
		{Name: "podapp", Version: "1.2.3/../../escape"},
		{Name: "podapp", Digest: "sha256:../../../escape"},
		{Name: "podapp", Digest: "../../escape"},
		{RepoURL: reg.URL + "/../../escape", Name: "podapp", Version: "1.2.3"},
		{RepoURL: "oci://../../escape", Name: "podapp", Version: "1.2.3"},
	} {
		rc.RepoURL = cmp(rc.RepoURL, reg.URL)
		_, _, err := cache.Fetch(rc)
		t.Log(err)
		if !errors.Is(err, ErrFetch) {
			t.Errorf("%+v: %v", rc, err)
		}
	}
	if reg.Total() != n {
		t.Errorf("hostile references asked the registry: %v", reg.Requests())
	}
	entries, _ := os.ReadDir(filepath.Dir(cache.Dir))
	if len(entries) > 1 {
		t.Errorf("files next to the cache: %v", entries)
	}
	if m, _ := filepath.Glob(filepath.Join(cache.Dir, "*", "*")); len(m) != 0 {
		t.Errorf("cached: %v", m)
	}
}

// A Flux HelmRelease of a HelmRepository of type oci, one with chartRef to
// an OCIRepository (semver, then digest), and an Argo CD Application of an
// OCI chart (without a scheme, then oci://) are planned with the chart
// pulled from the registry: the key goes into the release's values, and
// the release renders with the control passing. Without a cache nothing
// is asked of the registry.
func TestOCIReleases(t *testing.T) {
	reg, repo := ociRepo(t)
	cache := &ChartCache{Dir: t.TempDir()}
	cs := controls(t, "KM-002")
	type release struct {
		read    func(repo, file string, doc int) (*Release, error)
		file    string
		doc     int
		remote  RemoteChart
		source  string
		objName string
	}
	rels := []release{
		{HelmRelease, "flux/podapp-oci.yaml", 0, RemoteChart{RepoURL: reg.URL, Name: "podapp", Version: "1.2.3"}, "flux/podapp-oci.yaml#0 spec.values", "podapp-oci-podapp"},
		{HelmRelease, "flux/podapp-ref.yaml", 0, RemoteChart{RepoURL: reg.URL, Name: "podapp", Version: ">=1.0.0 <2.0.0"}, "flux/podapp-ref.yaml#0 spec.values", "podapp-ref-podapp"},
		{Application, "argocd/podapp-oci.yaml", 0, RemoteChart{RepoURL: reg.URL, Name: "podapp", Version: "1.2.3"}, "argocd/podapp-oci.yaml#0 spec.source.helm.valuesObject", "podapp-oci-podapp"},
	}
	for _, rl := range rels {
		r, err := rl.read(repo, rl.file, rl.doc)
		if err != nil {
			t.Fatal(err)
		}
		if r.Remote == nil || *r.Remote != rl.remote {
			t.Fatalf("%s#%d: remote %+v, want %+v", rl.file, rl.doc, r.Remote, rl.remote)
		}
		if _, err := PlanRelease(r, cs, Options{Renderer: Renderer{Repo: repo}}); !errors.Is(err, ErrExternalChart) || reg.Total() != 0 {
			t.Fatalf("%s#%d offline: %v, %d requests", rl.file, rl.doc, err, reg.Total())
		}
	}
	for _, rl := range rels {
		r, err := rl.read(repo, rl.file, rl.doc)
		if err != nil {
			t.Fatal(err)
		}
		res, err := PlanRelease(r, cs, Options{Renderer: Renderer{Repo: repo}, Charts: cache})
		if err != nil {
			t.Fatalf("%s#%d: %v", rl.file, rl.doc, err)
		}
		if len(res.Fixes) != 1 || res.Fixes[0].KeyString() != "securityContext.allowPrivilegeEscalation" ||
			res.Fixes[0].Source.String() != rl.source || res.Remote == nil || res.Remote.Resolved != "1.2.3" || res.Chart != "podapp-1.2.3.tgz" {
			t.Fatalf("%s#%d: fixes %+v, remote %+v, chart %s, manual %+v", rl.file, rl.doc, res.Fixes, res.Remote, res.Chart, res.Manual)
		}
		if _, err := res.Write(); err != nil {
			t.Fatal(err)
		}
		r, err = rl.read(repo, rl.file, rl.doc)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := Renderer{Repo: repo}.RenderRelease(r, cache)
		if err != nil {
			t.Fatal(err)
		}
		if len(objs) != 1 || objs[0].Ref.Name != rl.objName {
			t.Fatalf("%s#%d: %+v", rl.file, rl.doc, objs)
		}
		for _, cr := range check.Run(cs, objs[0].Object, check.Options{}) {
			t.Errorf("%s#%d: still fails: %s", rl.file, rl.doc, cr.Control.ID)
		}
	}
	data, err := os.ReadFile(filepath.Join(repo, "flux/podapp-oci.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "      tag: \"2.0.1\" # pinned by the release team\n    securityContext:\n      allowPrivilegeEscalation: false\n") {
		t.Errorf("flux/podapp-oci.yaml:\n%s", data)
	}

	// The OCIRepository pinned by digest; the Application with oci://.
	host := strings.TrimSuffix(strings.TrimPrefix(reg.URL, "oci://"), "/charts")
	writeTree(t, repo, map[string]string{
		"flux/digest.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: pinned\n  namespace: apps\nspec:\n  chartRef:\n    kind: OCIRepository\n    name: pinned\n---\n" +
			"apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: pinned\n  namespace: apps\nspec:\n  url: oci://" + host + "/charts/podapp\n  ref:\n    digest: " + reg.Digests["1.1.0"] + "\n    tag: 1.2.3\n",
		"argocd/scheme.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: scheme\nspec:\n  destination:\n    namespace: apps\n  source:\n    repoURL: oci://" + host + "/charts/\n    chart: podapp\n    targetRevision: ~1.1.0\n",
	})
	for _, rl := range []release{
		{HelmRelease, "flux/digest.yaml", 0, RemoteChart{RepoURL: reg.URL, Name: "podapp", Digest: reg.Digests["1.1.0"]}, "flux/digest.yaml#0 spec.values", "pinned-podapp"},
		{Application, "argocd/scheme.yaml", 0, RemoteChart{RepoURL: reg.URL, Name: "podapp", Version: "~1.1.0"}, "argocd/scheme.yaml#0 spec.source.helm.valuesObject", "scheme-podapp"},
	} {
		r, err := rl.read(repo, rl.file, rl.doc)
		if err != nil {
			t.Fatal(err)
		}
		if r.Remote == nil || *r.Remote != rl.remote {
			t.Fatalf("%s: remote %+v, want %+v", rl.file, r.Remote, rl.remote)
		}
		res, err := PlanRelease(r, cs, Options{Renderer: Renderer{Repo: repo}, Charts: cache})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Fixes) != 1 || res.Fixes[0].Source.String() != rl.source || res.Remote.Resolved != "1.1.0" || res.Chart != "podapp-1.1.0.tgz" {
			t.Fatalf("%s: fixes %+v, remote %+v, chart %s", rl.file, res.Fixes, res.Remote, res.Chart)
		}
	}
}

// Flux sources kmend does not follow are ErrExternalChart naming the
// release and the source: a chartRef to a HelmChart, an OCIRepository
// that is not in the repository, one whose url is not oci://.
func TestOCIReleaseErrors(t *testing.T) {
	_, repo := ociRepo(t)
	hr := func(ref string) string {
		return "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: x\n  namespace: apps\nspec:\n  chartRef:\n" + ref
	}
	writeTree(t, repo, map[string]string{
		"flux/helmchart.yaml": hr("    kind: HelmChart\n    name: podapp\n"),
		"flux/missing.yaml":   hr("    kind: OCIRepository\n    name: missing\n"),
		"flux/bad.yaml": hr("    kind: OCIRepository\n    name: bad\n") +
			"---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: bad\n  namespace: apps\nspec:\n  url: https://example.com/charts/podapp\n",
		"argocd/bad.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: bad\nspec:\n  source:\n    repoURL: git@github.com:example/charts.git\n    chart: podapp\n",
	})
	for file, want := range map[string]string{
		"flux/helmchart.yaml": "flux/helmchart.yaml#0 HelmRelease apps/x: spec.chartRef HelmChart podapp: only OCIRepository chart references are followed",
		"flux/missing.yaml":   "flux/missing.yaml#0 HelmRelease apps/x: spec.chartRef: OCIRepository apps/missing is not in the repository",
		"flux/bad.yaml":       "flux/bad.yaml#0 HelmRelease apps/x: spec.chartRef: OCIRepository apps/bad (flux/bad.yaml#1): spec.url \"https://example.com/charts/podapp\" is not an oci://host/path/chart URL",
		"argocd/bad.yaml":     "argocd/bad.yaml#0 Application bad: chart \"podapp\": repoURL: \"git@github.com:example/charts.git\" is not an OCI repository URL",
	} {
		read := HelmRelease
		if strings.HasPrefix(file, "argocd/") {
			read = Application
		}
		if _, err := read(repo, file, 0); !errors.Is(err, ErrExternalChart) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v\nwant %s", file, err, want)
		}
	}
}

// No response of a registry is read past the limit (Helm's Pull holds
// every blob in memory).
func TestOCIResponseLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", len(r.URL.Path)-1)))
	}))
	defer srv.Close()
	client := &http.Client{Transport: limitTransport{nil, 10}}
	for path, ok := range map[string]bool{"/0123456789": true, "/0123456789a": false} {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if (err == nil) != ok || (ok && len(data) != 10) || (!ok && !strings.Contains(fmt.Sprint(err), "response larger than 10 bytes")) {
			t.Errorf("%s: %d bytes, %v", path, len(data), err)
		}
	}
}
