// Package helmtest serves a chart directory as a real Helm repository for
// tests: the chart packaged with the Helm SDK and an index.yaml listing it
// with its digest (and two versions whose archives are missing, to try
// version resolution), on an httptest server that counts requests.
package helmtest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/provenance"
	syaml "sigs.k8s.io/yaml"
)

// Server is a Helm repository at URL: /index.yaml and
// /charts/<name>-<version>.tgz.
type Server struct {
	*httptest.Server
	requests // by path
	mu       sync.Mutex
	files    map[string][]byte
}

// Serve packages the chart in chartDir and serves it until the test ends.
func Serve(t testing.TB, chartDir string) *Server {
	t.Helper()
	s := &Server{files: map[string][]byte{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.add(r.URL.Path)
		s.mu.Lock()
		data, ok := s.files[r.URL.Path]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	t.Cleanup(s.Close)
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	tgz, err := chartutil.Save(ch, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := provenance.DigestFile(tgz)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(tgz)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(tgz)
	s.files["/charts/"+name] = data
	// An index as helm repo index writes it, with relative URLs.
	idx := map[string]any{
		"apiVersion": "v1",
		"entries": map[string]any{
			ch.Name(): []map[string]any{
				{"apiVersion": "v2", "name": ch.Name(), "version": "1.1.0", "urls": []string{"charts/none-1.1.0.tgz"}},
				{"apiVersion": "v2", "name": ch.Name(), "version": ch.Metadata.Version, "appVersion": ch.Metadata.AppVersion,
					"urls": []string{"charts/" + name}, "digest": sum},
				{"apiVersion": "v2", "name": ch.Name(), "version": "2.0.0-rc.1", "urls": []string{"charts/none-2.0.0-rc.1.tgz"}},
			},
		},
	}
	if s.files["/index.yaml"], err = syaml.Marshal(idx); err != nil {
		t.Fatal(err)
	}
	return s
}

// File is what is served at path (nil when nothing is).
func (s *Server) File(path string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.files[path]
}

// SetFile serves data at path; nil data serves nothing there (404).
func (s *Server) SetFile(path string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if data == nil {
		delete(s.files, path)
		return
	}
	s.files[path] = data
}
