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
	src, where, err := findHelmRepository(rp, name, refNS)
	if err != nil {
		return nil, nil, err
	}
	id := fmt.Sprintf("HelmRepository %s/%s (%s)", refNS, name, where)
	u := str(src, "spec", "url")
	if str(src, "spec", "type") == "oci" || strings.HasPrefix(u, "oci://") {
		return nil, nil, fmt.Errorf("chart %q from %s %s: OCI charts are not fetched yet: %w", chart, id, u, ErrExternalChart)
	}
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return nil, nil, fmt.Errorf("chart %q from %s: spec.url %q is not an HTTP(S) URL: %w", chart, id, u, ErrExternalChart)
	}
	var notes []string
	if str(src, "spec", "secretRef", "name") != "" || str(src, "spec", "certSecretRef", "name") != "" {
		notes = append(notes, id+": its secretRef / certSecretRef is not used: the chart is fetched without credentials")
	}
	return &RemoteChart{RepoURL: u, Name: chart, Version: str(hr, "spec", "chart", "spec", "version")}, notes, nil
}

// findHelmRepository finds the Flux HelmRepository name in namespace ns
// among the YAML files of the repository (read through os.Root; hidden
// directories skipped, files that do not parse ignored). A HelmRepository
// without a namespace matches when none has the namespace (Flux's
// Kustomization then gives it its own).
func findHelmRepository(rp *repo, name, ns string) (*yaml.RNode, string, error) {
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
		if err != nil || !bytes.Contains(data, []byte("HelmRepository")) {
			return nil
		}
		f, err := yamledit.Parse(p, data, yamledit.Options{})
		if err != nil {
			return nil
		}
		for i, doc := range f.Docs {
			n := doc.Node
			if n == nil || str(n, "kind") != "HelmRepository" || !strings.HasPrefix(str(n, "apiVersion"), "source.toolkit.fluxcd.io/") ||
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
		return nil, "", fmt.Errorf("HelmRepository %s/%s is not in the repository: %w", ns, name, ErrExternalChart)
	case len(ms) > 1:
		for _, m := range ms[1:] {
			if str(m.n, "spec", "url") != str(ms[0].n, "spec", "url") || str(m.n, "spec", "type") != str(ms[0].n, "spec", "type") {
				return nil, "", fmt.Errorf("HelmRepository %s/%s is defined differently in %s and %s", ns, name, ms[0].where, m.where)
			}
		}
	}
	return ms[0].n, ms[0].where, nil
}
