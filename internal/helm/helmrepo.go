package helm

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/yamledit"
)

// helmRepositoryChart resolves the chart of a Flux HelmRelease (node hr,
// in namespace ns) whose sourceRef is a HelmRepository: the HelmRepository
// is looked up among the repository's YAML files.
func helmRepositoryChart(repoDir string, hr *yaml.RNode, ns, chart string) (*RemoteChart, []string, error) {
	name := str(hr, "spec", "chart", "spec", "sourceRef", "name")
	refNS := cmp(str(hr, "spec", "chart", "spec", "sourceRef", "namespace"), ns)
	if chart == "" || name == "" {
		return nil, nil, fmt.Errorf("chart %q from HelmRepository %q: chart and sourceRef.name are needed", chart, name)
	}
	rp, err := openRepo(repoDir)
	if err != nil {
		return nil, nil, err
	}
	defer rp.close()
	src, where, err := findSource(rp, "HelmRepository", name, refNS)
	if err != nil {
		return nil, nil, err
	}
	id := fmt.Sprintf("HelmRepository %s/%s (%s)", refNS, name, where)
	u := str(src, "spec", "url")
	notes := sourceNotes(src, id)
	version := str(hr, "spec", "chart", "spec", "version")
	if str(src, "spec", "type") == "oci" || isOCI(u) {
		// Flux pulls url/chart:version, the version resolved against the
		// tags as helm pull does.
		ou, err := ociRepoURL(u)
		if err != nil || !isOCI(u) {
			return nil, nil, fmt.Errorf("chart %q from %s: spec.url %q is not an oci:// URL: %w", chart, id, u, ErrExternalChart)
		}
		return &RemoteChart{RepoURL: ou, Name: chart, Version: version}, notes, nil
	}
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return nil, nil, fmt.Errorf("chart %q from %s: spec.url %q is not an HTTP(S) URL: %w", chart, id, u, ErrExternalChart)
	}
	return &RemoteChart{RepoURL: u, Name: chart, Version: version}, notes, nil
}

// sourceNotes are the settings of a Flux source (HelmRepository,
// OCIRepository) that the fetch does not follow.
func sourceNotes(src *yaml.RNode, id string) []string {
	var notes []string
	if str(src, "spec", "secretRef", "name") != "" || str(src, "spec", "certSecretRef", "name") != "" ||
		(str(src, "spec", "provider") != "" && str(src, "spec", "provider") != "generic") {
		notes = append(notes, id+": its secretRef / certSecretRef / provider is not used: the chart is fetched without them (Helm's registry credentials only, for OCI)")
	}
	if str(src, "spec", "insecure") == "true" {
		notes = append(notes, id+": spec.insecure is not followed: the registry is reached over HTTPS (plain HTTP for loopback registries only)")
	}
	return notes
}

// ociRepositoryChart resolves the chart of a Flux HelmRelease (node hr,
// in namespace ns) whose spec.chartRef is an OCIRepository: the
// OCIRepository is looked up among the repository's YAML files; its
// spec.url (oci://host/path/chart) is the chart's OCI repository, and
// spec.ref.digest, else .semver, else .tag (latest when none) the version.
func ociRepositoryChart(repoDir string, hr *yaml.RNode, ns string) (*RemoteChart, []string, error) {
	name := str(hr, "spec", "chartRef", "name")
	refNS := cmp(str(hr, "spec", "chartRef", "namespace"), ns)
	if name == "" {
		return nil, nil, fmt.Errorf("spec.chartRef: name is needed")
	}
	rp, err := openRepo(repoDir)
	if err != nil {
		return nil, nil, err
	}
	defer rp.close()
	src, where, err := findSource(rp, "OCIRepository", name, refNS)
	if err != nil {
		return nil, nil, err
	}
	id := fmt.Sprintf("OCIRepository %s/%s (%s)", refNS, name, where)
	u := str(src, "spec", "url")
	ou, err := ociRepoURL(u)
	i := strings.LastIndex(ou, "/")
	if err != nil || !isOCI(u) || i < len(ociScheme) {
		return nil, nil, fmt.Errorf("%s: spec.url %q is not an oci://host/path/chart URL: %w", id, u, ErrExternalChart)
	}
	notes := sourceNotes(src, id)
	rc := &RemoteChart{RepoURL: ou[:i], Name: ou[i+1:]}
	switch {
	case str(src, "spec", "ref", "digest") != "":
		rc.Digest = str(src, "spec", "ref", "digest")
	case str(src, "spec", "ref", "semver") != "":
		rc.Version = str(src, "spec", "ref", "semver")
		if str(src, "spec", "ref", "semverFilter") != "" {
			notes = append(notes, id+": spec.ref.semverFilter is not applied")
		}
	default:
		rc.Version = cmp(str(src, "spec", "ref", "tag"), "latest")
	}
	return rc, notes, nil
}

// findSource finds the Flux source of kind (HelmRepository,
// OCIRepository) name in namespace ns among the YAML files of the
// repository (read through os.Root; hidden directories skipped, files that
// do not parse ignored). A source without a namespace matches when none
// has the namespace (Flux's Kustomization then gives it its own).
func findSource(rp *repo, kind, name, ns string) (*yaml.RNode, string, error) {
	type match struct {
		n     *yaml.RNode
		where string
	}
	var exact, loose []match
	err := fs.WalkDir(rp.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable: skipped
		}
		if d.IsDir() {
			if p != "." && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if ext := path.Ext(p); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		data, err := rp.readFile(p)
		if err != nil || !bytes.Contains(data, []byte(kind)) {
			return nil
		}
		f, err := yamledit.Parse(p, data, yamledit.Options{})
		if err != nil {
			return nil
		}
		for i, doc := range f.Docs {
			n := doc.Node
			if n == nil || str(n, "kind") != kind || !strings.HasPrefix(str(n, "apiVersion"), "source.toolkit.fluxcd.io/") ||
				str(n, "metadata", "name") != name {
				continue
			}
			m := match{n, fmt.Sprintf("%s#%d", p, i)}
			switch str(n, "metadata", "namespace") {
			case ns:
				exact = append(exact, m)
			case "":
				loose = append(loose, m)
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	ms := exact
	if len(ms) == 0 {
		ms = loose
	}
	switch {
	case len(ms) == 0:
		return nil, "", fmt.Errorf("%s %s/%s is not in the repository: %w", kind, ns, name, ErrExternalChart)
	case len(ms) > 1:
		for _, m := range ms[1:] {
			a, b := ms[0].n, m.n
			if str(a, "spec", "url") != str(b, "spec", "url") || str(a, "spec", "type") != str(b, "spec", "type") ||
				str(a, "spec", "ref", "digest") != str(b, "spec", "ref", "digest") || str(a, "spec", "ref", "semver") != str(b, "spec", "ref", "semver") ||
				str(a, "spec", "ref", "tag") != str(b, "spec", "ref", "tag") {
				return nil, "", fmt.Errorf("%s %s/%s is defined differently in %s and %s", kind, ns, name, ms[0].where, m.where)
			}
		}
	}
	return ms[0].n, ms[0].where, nil
}
