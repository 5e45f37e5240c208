package helmtest

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ggcr "github.com/google/go-containerregistry/pkg/registry"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/registry"
)

// Registry is a real OCI registry (go-containerregistry's in-memory
// implementation of the distribution API) holding a chart pushed with
// Helm's own registry client, on an httptest server that counts requests.
type Registry struct {
	*httptest.Server
	// URL is the chart's repository URL, oci://127.0.0.1:port/charts: the
	// chart is URL/<name>.
	URL string
	// Digests are the manifest digests of the pushed versions (and of
	// latest).
	Digests  map[string]string
	requests // by method and path ("GET /v2/charts/podapp/tags/list"), since the chart was pushed
}

// ServeOCI pushes the chart in chartDir to a registry under charts/<name>
// at its own version, and at 1.1.0 and 2.0.0-rc.1 (the same chart with
// that version, to try version resolution), and its own version again
// under the tag latest; the registry serves until the test ends.
func ServeOCI(t testing.TB, chartDir string) *Registry {
	t.Helper()
	reg := ggcr.New(ggcr.Logger(log.New(io.Discard, "", 0)))
	s := &Registry{Digests: map[string]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.add(r.Method + " " + r.URL.Path)
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	host := strings.TrimPrefix(s.Server.URL, "http://")
	s.URL = "oci://" + host + "/charts"
	client, err := registry.NewClient(registry.ClientOptPlainHTTP(),
		registry.ClientOptCredentialsFile(filepath.Join(t.TempDir(), "registry.json")))
	if err != nil {
		t.Fatal(err)
	}
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	// push packages the chart at version and pushes it under tag.
	push := func(version, tag string, opts ...registry.PushOption) {
		ch.Metadata.Version = version
		tgz, err := chartutil.Save(ch, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(tgz)
		if err != nil {
			t.Fatal(err)
		}
		res, err := client.Push(data, host+"/charts/"+ch.Name()+":"+tag, opts...)
		if err != nil {
			t.Fatal(err)
		}
		s.Digests[tag] = res.Manifest.Digest
	}
	own := ch.Metadata.Version
	for _, v := range []string{"1.1.0", own, "2.0.0-rc.1"} {
		push(v, v)
	}
	push(own, "latest", registry.PushOptStrictMode(false))
	s.reset()
	return s
}
