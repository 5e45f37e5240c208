package helm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	syaml "sigs.k8s.io/yaml"

	"github.com/kmend/kmend/internal/lazyre"
)

// ErrFetch: a chart could not be fetched from its Helm repository (the
// index or the archive could not be downloaded, the chart or version is
// not in the index, the archive's digest is not the index's).
var ErrFetch = errors.New("chart not fetched")

// RemoteChart is a chart of an HTTP(S) Helm repository or of an OCI
// registry: a Flux HelmRelease's chart from a HelmRepository (of type
// default or oci) or its chartRef to an OCIRepository, an Argo CD
// source's chart:.
type RemoteChart struct {
	// RepoURL is the repository's URL: http:// or https://, where
	// index.yaml is, or oci://host/path, the chart being the OCI
	// repository RepoURL/Name.
	RepoURL string
	Name    string
	// Version is the version asked for: exact, a semver constraint as Helm
	// reads it (^1.2, ~1.2.3, >=1.0 <2.0, 1.x), or "" / "*" for the latest
	// stable version. In an OCI registry an exact version is the tag, a
	// constraint is resolved against the tags, and any other tag (latest)
	// is pulled as it is.
	Version string
	// Digest is the manifest digest (sha256:...) of an OCI chart pinned by
	// digest (a Flux OCIRepository's spec.ref.digest); it wins over
	// Version.
	Digest string
	// Resolved is the version fetched (set on Result.Remote).
	Resolved string
}

func (c RemoteChart) String() string {
	v := c.Resolved
	switch {
	case v != "":
	case c.Digest != "":
		v = c.Digest
	default:
		v = cmp(c.Version, "*")
	}
	return fmt.Sprintf("chart %s %s from %s", c.Name, v, c.RepoURL)
}

// archiveName is the chart's archive name, as helm package names it.
func (c RemoteChart) archiveName() string { return c.Name + "-" + c.Resolved + ".tgz" }

// ChartCache fetches charts from HTTP(S) Helm repositories and OCI
// registries and keeps them under Dir:
//
//	Dir/<host>-<sha256 of the repository URL, 16 hex digits>/index.yaml
//	Dir/<host>-<...>/<name>-<version>.tgz
//	Dir/<host>-<...>/<name>-sha256-<digest>.tgz (OCI, pulled by digest or by a tag that is not a version)
//
// From a Helm repository it does what helm pull does (Helm's pkg/getter
// and pkg/repo pull in its plugin system, so this is the same protocol
// with net/http): index.yaml is downloaded, the name and version resolved as
// Helm's IndexFile.Get resolves them (an exact version first, else the
// highest version meeting the semver constraint; no version: the latest
// stable one), the archive downloaded from the entry's first URL
// (relative to the repository) and its sha256 checked against the index's
// digest. Files are written atomically, an archive only once its digest
// matches. A chart asked for by an exact version already cached is read
// from the cache without any request; a constraint (or no version)
// fetches the index to resolve it, then the archive only when it is not
// cached.
//
// A chart of an OCI registry (RepoURL oci://host/path) is pulled with
// Helm's own registry client (helm.sh/helm/v4/pkg/registry, as helm pull
// oci:// does: the manifest's and layers' digests checked, credentials
// from Helm's registry config or Docker's when they have some, else
// anonymous). An exact version or a digest already cached is read without
// any request; a constraint lists the repository's tags to resolve it.
type ChartCache struct {
	// Dir is the cache directory (created when missing).
	Dir string
	// Client does the requests; a client with a two-minute timeout (and
	// the proxy settings of the environment) when nil.
	Client *http.Client
	// PlainHTTP reaches OCI registries over plain HTTP (helm
	// --plain-http); a registry on a loopback address always is.
	PlainHTTP bool
}

// Bounds on what is downloaded.
const maxIndexBytes = 128 << 20

var (
	exactVersion = lazyre.New(`^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
	safeName     = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)
	hostChars    = lazyre.New(`[^A-Za-z0-9.-]+`)
	defaultHTTP  = &http.Client{Timeout: 2 * time.Minute}
)

// indexFile is the part of a repository's index.yaml that is read.
type indexFile struct {
	APIVersion string                   `json:"apiVersion"`
	Entries    map[string][]*indexEntry `json:"entries"`
}

type indexEntry struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	URLs    []string `json:"urls"`
	Digest  string   `json:"digest,omitempty"`
}

// get resolves name and version as Helm's IndexFile.Get does.
func (i *indexFile) get(name, version string) (*indexEntry, error) {
	vs := slices.DeleteFunc(slices.Clone(i.Entries[name]), func(e *indexEntry) bool { return e == nil })
	if len(vs) == 0 {
		return nil, fmt.Errorf("no chart named %s in the index", name)
	}
	// Highest first; versions that do not parse last.
	slices.SortStableFunc(vs, func(a, b *indexEntry) int {
		va, ea := semver.NewVersion(a.Version)
		vb, eb := semver.NewVersion(b.Version)
		switch {
		case ea != nil && eb != nil:
			return 0
		case ea != nil:
			return 1
		case eb != nil:
			return -1
		}
		return vb.Compare(va)
	})
	if version != "" {
		for _, e := range vs {
			if e.Version == version {
				return e, nil
			}
		}
	}
	c, err := semver.NewConstraint(cmp(version, "*"))
	if err != nil {
		return nil, fmt.Errorf("version %q: %w", version, err)
	}
	for _, e := range vs {
		if v, err := semver.NewVersion(e.Version); err == nil && c.Check(v) {
			return e, nil
		}
	}
	return nil, fmt.Errorf("no version of %s meets %s", name, cmp(version, "*"))
}

// resolveURL resolves ref against the repository URL as Helm does (the
// repository URL taken as a directory, its query kept).
func resolveURL(base, ref string) (string, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	if r.IsAbs() {
		return ref, nil
	}
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	b.RawPath = strings.TrimSuffix(b.RawPath, "/") + "/"
	b.Path = strings.TrimSuffix(b.Path, "/") + "/"
	out := b.ResolveReference(r)
	out.RawQuery = b.RawQuery
	return out.String(), nil
}

// repoDir is the cache directory of a repository URL.
func (c *ChartCache) repoDir(repoURL string) (string, error) {
	u, err := url.Parse(repoURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "oci") || u.Host == "" {
		return "", fmt.Errorf("%s: not an HTTP(S) Helm repository or OCI registry URL", repoURL)
	}
	sum := sha256.Sum256([]byte(strings.TrimSuffix(repoURL, "/")))
	return filepath.Join(c.Dir, hostChars.ReplaceAllString(u.Host, "_")+"-"+hex.EncodeToString(sum[:8])), nil
}

// Fetch returns the files of the chart's archive and the chart with its
// resolved version, downloading the chart when it is not cached. Errors
// wrap ErrFetch and name the URL that failed.
func (c *ChartCache) Fetch(rc RemoteChart) ([]*archive.BufferedFile, RemoteChart, error) {
	if c == nil || c.Dir == "" {
		return nil, rc, fmt.Errorf("%s: no chart cache directory: %w", rc, ErrFetch)
	}
	if !safeName.MatchString(rc.Name) {
		return nil, rc, fmt.Errorf("%s: chart name %q: %w", rc, rc.Name, ErrFetch)
	}
	if isOCI(rc.RepoURL) {
		return c.fetchOCI(rc)
	}
	dir, err := c.repoDir(rc.RepoURL)
	if err != nil {
		return nil, rc, fmt.Errorf("%w: %w", err, ErrFetch)
	}
	version := strings.TrimSpace(rc.Version)
	if exactVersion.MatchString(version) {
		res := rc
		res.Resolved = version
		if files, err := loadArchive(filepath.Join(dir, res.archiveName())); err == nil {
			return files, res, nil
		}
	}
	indexURL, err := resolveURL(rc.RepoURL, "index.yaml")
	if err != nil {
		return nil, rc, fmt.Errorf("%s: %w: %w", rc.RepoURL, err, ErrFetch)
	}
	data, err := c.get(indexURL, maxIndexBytes)
	if err != nil {
		return nil, rc, fmt.Errorf("%w: %w", err, ErrFetch)
	}
	var idx indexFile
	if err := syaml.Unmarshal(data, &idx); err != nil {
		return nil, rc, fmt.Errorf("%s: %w: %w", indexURL, err, ErrFetch)
	}
	if idx.APIVersion == "" {
		return nil, rc, fmt.Errorf("%s: no apiVersion: not a Helm repository index: %w", indexURL, ErrFetch)
	}
	if err := writeAtomic(filepath.Join(dir, "index.yaml"), data); err != nil {
		return nil, rc, fmt.Errorf("chart cache: %w", err)
	}
	cv, err := idx.get(rc.Name, version)
	if err != nil {
		return nil, rc, fmt.Errorf("%s: %w: %w", indexURL, err, ErrFetch)
	}
	res := rc
	res.Resolved = cv.Version
	if !safeName.MatchString(cv.Version) {
		return nil, rc, fmt.Errorf("%s: version %q: %w", indexURL, cv.Version, ErrFetch)
	}
	want := strings.ToLower(strings.TrimPrefix(cv.Digest, "sha256:"))
	dest := filepath.Join(dir, res.archiveName())
	if data, err := os.ReadFile(dest); err == nil && (want == "" || digest(data) == want) {
		if files, err := archive.LoadArchiveFiles(bytes.NewReader(data)); err == nil {
			return files, res, nil
		}
	}
	if len(cv.URLs) == 0 {
		return nil, rc, fmt.Errorf("%s: %s %s has no URL: %w", indexURL, rc.Name, cv.Version, ErrFetch)
	}
	chartURL, err := resolveURL(rc.RepoURL, cv.URLs[0])
	if err != nil {
		return nil, rc, fmt.Errorf("%s: %w: %w", cv.URLs[0], err, ErrFetch)
	}
	if u, err := url.Parse(chartURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, rc, fmt.Errorf("%s: not an HTTP(S) URL: %w", chartURL, ErrFetch)
	}
	data, err = c.get(chartURL, maxChartBytes)
	if err != nil {
		return nil, rc, fmt.Errorf("%w: %w", err, ErrFetch)
	}
	if want != "" {
		if got := digest(data); got != want {
			return nil, rc, fmt.Errorf("%s: digest mismatch: sha256:%s, the index says sha256:%s: %w", chartURL, got, want, ErrFetch)
		}
	}
	files, err := archive.LoadArchiveFiles(bytes.NewReader(data))
	if err != nil {
		return nil, rc, fmt.Errorf("%s: not a chart archive: %w: %w", chartURL, err, ErrFetch)
	}
	if err := writeAtomic(dest, data); err != nil {
		return nil, rc, fmt.Errorf("chart cache: %w", err)
	}
	return files, res, nil
}

// get downloads a URL, at most limit bytes.
func (c *ChartCache) get(u string, limit int64) ([]byte, error) {
	client := c.Client
	if client == nil {
		client = defaultHTTP
	}
	req, err := http.NewRequest(http.MethodGet, u, http.NoBody)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	req.Header.Set("User-Agent", "kmend")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err // *url.Error names the URL
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", u, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", u, limit)
	}
	return data, nil
}

// loadArchive reads a cached archive.
func loadArchive(p string) ([]*archive.BufferedFile, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return archive.LoadArchiveFiles(bytes.NewReader(data))
}

func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// writeAtomic writes a file through a temporary file in its directory,
// renamed into place.
func writeAtomic(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-"+filepath.Base(p)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), p)
}
