package helm

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	"helm.sh/helm/v4/pkg/registry"
	syaml "sigs.k8s.io/yaml"

	"github.com/kmend/kmend/internal/lazyre"
)

// ociScheme prefixes the repository URL of a chart in an OCI registry.
const ociScheme = "oci://"

var (
	ociDigest = lazyre.New(`^sha256:[a-f0-9]{64}$`)
	// ociTag is the OCI distribution spec's tag grammar.
	ociTag = lazyre.New(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)
	// ociPath is the distribution spec's repository name grammar.
	ociPath = lazyre.New(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$`)
	ociHost = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]+)?$|^\[[0-9A-Fa-f:.]+\](:[0-9]+)?$`)
)

// isOCI reports whether a repository URL is an OCI registry's (oci://).
func isOCI(repoURL string) bool { return strings.HasPrefix(repoURL, ociScheme) }

// ociRepoURL checks an OCI repository URL (oci://host[:port]/path, or
// Argo CD's host/path without a scheme) and returns it with the scheme
// and without a trailing slash.
func ociRepoURL(u string) (string, error) {
	rest := strings.TrimSuffix(strings.TrimPrefix(u, ociScheme), "/")
	host, p, _ := strings.Cut(rest, "/")
	if !ociHost.MatchString(host) || (p != "" && !ociPath.MatchString(p)) {
		return "", fmt.Errorf("%q is not an OCI repository URL (oci://host/path)", u)
	}
	return ociScheme + rest, nil
}

// ociReference is the chart's OCI repository (host/path/name), checked.
func (c RemoteChart) ociReference() (host, ref string, err error) {
	u, err := ociRepoURL(c.RepoURL)
	if err != nil {
		return "", "", err
	}
	if !ociPath.MatchString(c.Name) || strings.Contains(c.Name, "/") {
		return "", "", fmt.Errorf("chart name %q is not an OCI repository name", c.Name)
	}
	rest := strings.TrimPrefix(u, ociScheme)
	host, _, _ = strings.Cut(rest, "/")
	return host, rest + "/" + c.Name, nil
}

// loopback reports whether a registry host (host[:port]) is this machine.
func loopback(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = strings.Trim(host, "[]")
	}
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// registryClient is Helm's OCI registry client for host: credentials from
// Helm's registry config (and Docker's) as helm pull reads them, anonymous
// when there are none; plain HTTP for a loopback registry or with
// PlainHTTP.
func (c *ChartCache) registryClient(host string) (*registry.Client, error) {
	client := &http.Client{Timeout: defaultHTTP.Timeout, Transport: registry.NewTransport(false)}
	if c.Client != nil {
		cl := *c.Client
		client = &cl
	}
	// Helm's Pull reads every blob whole into memory: no response may
	// be larger than a chart may be.
	client.Transport = limitTransport{client.Transport, maxChartBytes}
	opts := []registry.ClientOption{registry.ClientOptWriter(io.Discard), registry.ClientOptHTTPClient(client)}
	if c.PlainHTTP || loopback(host) {
		opts = append(opts, registry.ClientOptPlainHTTP())
	}
	return registry.NewClient(opts...)
}

// ociCacheName is the cache file of a chart pulled by digest.
func ociCacheName(name, digest string) string {
	return name + "-" + strings.Replace(digest, ":", "-", 1) + ".tgz"
}

// fetchOCI is Fetch for a chart of an OCI registry: rc.RepoURL + "/" +
// rc.Name is the repository; rc.Digest, else rc.Version (an exact version
// is the tag, a semver constraint is resolved against the repository's
// tags as helm pull does, another tag is pulled as it is) names the
// manifest. Helm's registry client pulls it and checks its digests.
func (c *ChartCache) fetchOCI(rc RemoteChart) ([]*archive.BufferedFile, RemoteChart, error) {
	fail := func(what string, err error) ([]*archive.BufferedFile, RemoteChart, error) {
		return nil, rc, fmt.Errorf("%s: %s: %w: %w", rc, what, err, ErrFetch)
	}
	host, ref, err := rc.ociReference()
	if err != nil {
		return fail("reference", err)
	}
	dir, err := c.repoDir(rc.RepoURL)
	if err != nil {
		return nil, rc, fmt.Errorf("%w: %w", err, ErrFetch)
	}
	res := rc
	var pullRef, dest string
	var client *registry.Client
	getClient := func() (*registry.Client, error) {
		if client == nil {
			client, err = c.registryClient(host)
		}
		return client, err
	}
	version := strings.TrimSpace(rc.Version)
	switch {
	case rc.Digest != "":
		if !ociDigest.MatchString(rc.Digest) {
			return fail("digest", fmt.Errorf("%q is not a sha256 digest", rc.Digest))
		}
		dest = filepath.Join(dir, ociCacheName(rc.Name, rc.Digest))
		if files, err := loadArchive(dest); err == nil {
			if v, err := chartVersion(files); err == nil {
				res.Resolved = v
				return files, res, nil
			}
		}
		pullRef = ref + "@" + rc.Digest
	case exactVersion.MatchString(version):
		res.Resolved = version
		dest = filepath.Join(dir, res.archiveName())
		if files, err := loadArchive(dest); err == nil {
			return files, res, nil
		}
		pullRef = ref + ":" + version
	default:
		cons, cerr := semver.NewConstraint(cmp(version, "*"))
		if cerr != nil {
			if !ociTag.MatchString(version) {
				return fail("version", fmt.Errorf("%q is neither a version, a semver constraint nor a tag", version))
			}
			// A tag such as latest: always pulled, cached by digest.
			pullRef = ref + ":" + version
			break
		}
		cl, err := getClient()
		if err != nil {
			return fail("registry client", err)
		}
		tags, err := cl.Tags(ref)
		if err != nil {
			return fail("tags of oci://"+ref, err)
		}
		for _, t := range tags { // highest first
			if v, err := semver.NewVersion(t); err == nil && cons.Check(v) {
				res.Resolved = t
				break
			}
		}
		if res.Resolved == "" {
			return fail("tags of oci://"+ref, fmt.Errorf("no tag meets %s (%d semver tags)", cmp(version, "*"), len(tags)))
		}
		if !exactVersion.MatchString(res.Resolved) {
			return fail("tags of oci://"+ref, fmt.Errorf("tag %q", res.Resolved))
		}
		dest = filepath.Join(dir, res.archiveName())
		if files, err := loadArchive(dest); err == nil {
			return files, res, nil
		}
		pullRef = ref + ":" + res.Resolved
	}
	cl, err := getClient()
	if err != nil {
		return fail("registry client", err)
	}
	pulled, err := cl.Pull(pullRef, registry.PullOptWithChart(true))
	if err != nil {
		return fail("pull oci://"+pullRef, err)
	}
	if rc.Digest != "" && pulled.Manifest.Digest != rc.Digest {
		return fail("pull oci://"+pullRef, fmt.Errorf("manifest digest %s", pulled.Manifest.Digest))
	}
	data := pulled.Chart.Data
	if len(data) > maxChartBytes {
		return fail("pull oci://"+pullRef, fmt.Errorf("chart larger than %d bytes", maxChartBytes))
	}
	files, err := archive.LoadArchiveFiles(bytes.NewReader(data))
	if err != nil {
		return fail("pull oci://"+pullRef, fmt.Errorf("not a chart archive: %w", err))
	}
	if res.Resolved == "" {
		v, err := chartVersion(files)
		if err != nil || !exactVersion.MatchString(v) {
			return fail("pull oci://"+pullRef, fmt.Errorf("chart version %q: %v", v, err))
		}
		res.Resolved = v
	}
	if dest == "" { // a tag that is not a version: cached by digest
		if !ociDigest.MatchString(pulled.Manifest.Digest) {
			return fail("pull oci://"+pullRef, fmt.Errorf("manifest digest %q", pulled.Manifest.Digest))
		}
		dest = filepath.Join(dir, ociCacheName(rc.Name, pulled.Manifest.Digest))
	}
	if err := writeAtomic(dest, data); err != nil {
		return nil, rc, fmt.Errorf("chart cache: %w", err)
	}
	return files, res, nil
}

// chartVersion is the version in an archive's Chart.yaml.
func chartVersion(files []*archive.BufferedFile) (string, error) {
	for _, f := range files {
		if f.Name == "Chart.yaml" {
			var meta struct {
				Version string `json:"version"`
			}
			if err := syaml.Unmarshal(f.Data, &meta); err != nil {
				return "", err
			}
			return meta.Version, nil
		}
	}
	return "", fmt.Errorf("no Chart.yaml")
}

// limitTransport fails the reading of a response body after limit bytes.
type limitTransport struct {
	rt    http.RoundTripper
	limit int64
}

func (t limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rt := t.rt
	if rt == nil {
		rt = http.DefaultTransport
	}
	resp, err := rt.RoundTrip(req)
	if resp != nil && resp.Body != nil {
		resp.Body = &limitedBody{ReadCloser: resp.Body, left: t.limit, limit: t.limit, url: req.URL.Redacted()}
	}
	return resp, err
}

type limitedBody struct {
	io.ReadCloser
	left, limit int64
	url         string
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, fmt.Errorf("%s: response larger than %d bytes", b.url, b.limit)
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, fmt.Errorf("%s: response larger than %d bytes", b.url, b.limit)
	}
	return n, err
}
