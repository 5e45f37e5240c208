package helm

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	"helm.sh/helm/v4/pkg/strvals"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/yamledit"
)

// Release is one Helm release of a chart of the repository: the chart,
// its values in precedence order, and the release's name and namespace.
type Release struct {
	// Chart is the chart directory, relative to the repository; empty for
	// a chart from a Helm repository (Remote).
	Chart string
	// Remote is the chart of an HTTP(S) Helm repository or an OCI
	// registry the release deploys: PlanRelease fetches it with
	// Options.Charts.
	Remote    *RemoteChart
	Name      string
	Namespace string
	Values    []ValuesSource
	// Defined says where the release is defined ("flux/web.yaml#1
	// HelmRelease web/webapp"); empty for a chart planned on its own.
	Defined string
	// Notes say what was not followed (Flux valuesFrom, Argo CD
	// fileParameters...).
	Notes []string
}

// HelmRelease reads the Flux HelmRelease in document doc of file (relative
// to repo) whose chart is a directory of the repository
// (spec.chart.spec.chart with a GitRepository or Bucket source: the
// source is taken to be this repository), or a chart of a HelmRepository
// of type default (HTTP(S)) defined in the repository: Release.Remote,
// spec.chart.spec.version resolved as Helm does, or a chart of an OCI
// registry: a HelmRepository of type oci (the chart url/chart), or
// spec.chartRef to an OCIRepository defined in the repository (its url,
// spec.ref.digest / semver / tag). A chartRef to a HelmChart is
// ErrExternalChart; a HelmRelease naming no chart (a kustomize patch) is
// ErrPatchOnly. Its values are spec.chart.spec.valuesFiles, then spec.values (which fixes edit,
// creating it when absent). The release is named spec.releaseName, else
// [targetNamespace-]name, in spec.targetNamespace or the HelmRelease's
// namespace. valuesFrom (ConfigMaps, Secrets) is not followed.
func HelmRelease(repo, file string, doc int) (*Release, error) {
	n, rel, err := readDoc(repo, file, doc)
	if err != nil {
		return nil, err
	}
	if kind := str(n, "kind"); kind != "HelmRelease" || !strings.HasPrefix(str(n, "apiVersion"), "helm.toolkit.fluxcd.io/") {
		return nil, fmt.Errorf("%s#%d: a %s, not a Flux HelmRelease", rel, doc, kind)
	}
	name, ns := str(n, "metadata", "name"), str(n, "metadata", "namespace")
	id := fmt.Sprintf("%s#%d HelmRelease %s/%s", rel, doc, ns, name)
	chart := str(n, "spec", "chart", "spec", "chart")
	r := &Release{Name: str(n, "spec", "releaseName"), Namespace: ns, Defined: id}
	if chart == "" && at(n, "spec", "chartRef") == nil {
		return nil, fmt.Errorf("%s names no chart (spec.chart.spec.chart or spec.chartRef): the release is fixed where it is defined, values set in its kustomize patches are not: %w", id, ErrPatchOnly)
	}
	if at(n, "spec", "chartRef") != nil {
		if kind := str(n, "spec", "chartRef", "kind"); kind != "OCIRepository" {
			return nil, fmt.Errorf("%s: spec.chartRef %s %s: only OCIRepository chart references are followed: %w", id,
				kind, str(n, "spec", "chartRef", "name"), ErrExternalChart)
		}
		rc, notes, err := ociRepositoryChart(repo, n, ns)
		if err != nil {
			return nil, fmt.Errorf("%s: spec.chartRef: %w", id, err)
		}
		r.Remote, r.Notes = rc, notes
	} else {
		switch kind := str(n, "spec", "chart", "spec", "sourceRef", "kind"); kind {
		case "GitRepository", "Bucket":
		case "HelmRepository":
			rc, notes, err := helmRepositoryChart(repo, n, ns, chart)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", id, err)
			}
			r.Remote, r.Notes = rc, notes
		default:
			return nil, fmt.Errorf("%s: chart %q from a %s: %w", id, chart, kind, ErrExternalChart)
		}
	}
	target := str(n, "spec", "targetNamespace")
	if target != "" {
		r.Namespace = target
	}
	if r.Name == "" {
		r.Name = name
		if target != "" {
			r.Name = target + "-" + name
		}
	}
	rp, err := openRepo(repo)
	if err != nil {
		return nil, err
	}
	defer rp.close()
	if r.Remote == nil {
		if r.Chart, err = rp.rel(chart); err != nil {
			return nil, fmt.Errorf("%s: chart: %w", id, err)
		}
	} else if vfs := items(at(n, "spec", "chart", "spec", "valuesFiles")); len(vfs) > 0 {
		// Files of the chart's archive, not of the repository.
		return nil, fmt.Errorf("%s: spec.chart.spec.valuesFiles of a chart from a HelmRepository are files of the chart (not read yet)", id)
	}
	for _, vf := range items(at(n, "spec", "chart", "spec", "valuesFiles")) {
		p, err := rp.rel(vf.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: valuesFiles: %w", id, err)
		}
		r.Values = append(r.Values, ValuesFile(p))
	}
	if len(r.Values) > 0 {
		r.Notes = append(r.Notes, "spec.chart.spec.valuesFiles are merged over the chart's values.yaml (Flux replaces it unless it is listed)")
	}
	if vf := items(at(n, "spec", "valuesFrom")); len(vf) > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d valuesFrom entries (ConfigMaps, Secrets) not followed", len(vf)))
	}
	r.Values = append(r.Values, InlineValues(rel, doc, "spec", "values"))
	return r, nil
}

// Application reads the Argo CD Application in document doc of file
// (relative to repo) whose Helm source is a chart directory of the
// repository (the source's repoURL is taken to be this repository), or a
// chart: of an HTTP(S) Helm repository or an OCI registry (repoURL
// oci://host/path, or host/path without a scheme as Argo CD writes it),
// targetRevision its version (Release.Remote). Its
// values are, in Argo CD's order: helm.valueFiles (relative to the
// source's path; $ref/... through a source with that ref and the same
// repoURL), helm.values (a string of YAML, edited as text),
// helm.valuesObject, and helm.parameters (read only). The key a fix sets
// goes into the inline values when there are any, else into the last
// values file; with neither, into a new helm.valuesObject. The release is
// named helm.releaseName, else the Application's name, in
// spec.destination.namespace.
func Application(repo, file string, doc int) (*Release, error) {
	n, rel, err := readDoc(repo, file, doc)
	if err != nil {
		return nil, err
	}
	if kind := str(n, "kind"); kind != "Application" || !strings.HasPrefix(str(n, "apiVersion"), "argoproj.io/") {
		return nil, fmt.Errorf("%s#%d: a %s, not an Argo CD Application", rel, doc, kind)
	}
	name := str(n, "metadata", "name")
	id := fmt.Sprintf("%s#%d Application %s", rel, doc, name)
	srcPath := []string{"spec", "source"}
	src := at(n, "spec", "source")
	if src == nil {
		// Multi-source: the source with a path holding the chart, else
		// the source naming a chart of a Helm repository.
		for i, s := range items(at(n, "spec", "sources")) {
			if str(yaml.NewRNode(s), "path") != "" && (at(yaml.NewRNode(s), "helm") != nil || src == nil) {
				src, srcPath = s, []string{"spec", "sources", strconv.Itoa(i)}
			}
		}
		if src == nil {
			for i, s := range items(at(n, "spec", "sources")) {
				if str(yaml.NewRNode(s), "chart") != "" && (at(yaml.NewRNode(s), "helm") != nil || src == nil) {
					src, srcPath = s, []string{"spec", "sources", strconv.Itoa(i)}
				}
			}
		}
	}
	if src == nil {
		return nil, fmt.Errorf("%s: no source with a path or a chart", id)
	}
	s := yaml.NewRNode(src)
	r := &Release{Name: name, Namespace: str(n, "spec", "destination", "namespace"), Defined: id}
	repoURL := str(s, "repoURL")
	if chart := str(s, "chart"); chart != "" {
		u := repoURL
		if !strings.HasPrefix(repoURL, "https://") && !strings.HasPrefix(repoURL, "http://") {
			// oci://registry/path, or Argo CD's registry/path without a
			// scheme: the chart is the OCI repository registry/path/chart.
			var err error
			if u, err = ociRepoURL(repoURL); err != nil {
				return nil, fmt.Errorf("%s: chart %q: repoURL: %w: %w", id, chart, err, ErrExternalChart)
			}
		}
		r.Remote = &RemoteChart{RepoURL: u, Name: chart, Version: str(s, "targetRevision")}
		repoURL = "" // $ref/ values files: the sources are taken to be this repository
	}
	rp, err := openRepo(repo)
	if err != nil {
		return nil, err
	}
	defer rp.close()
	if rn := str(s, "helm", "releaseName"); rn != "" {
		r.Name = rn
	}
	if r.Remote == nil {
		if r.Chart, err = rp.rel(str(s, "path")); err != nil {
			return nil, fmt.Errorf("%s: source path: %w", id, err)
		}
	}
	helmPath := append(srcPath, "helm")
	for _, vf := range items(at(s, "helm", "valueFiles")) {
		if r.Remote != nil && !strings.HasPrefix(vf.Value, "$") {
			return nil, fmt.Errorf("%s: valueFiles: %s is a file of the %s (not read yet)", id, vf.Value, r.Remote)
		}
		p, err := valueFilePath(rp, n, r.Chart, repoURL, vf.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: valueFiles: %w", id, err)
		}
		r.Values = append(r.Values, ValuesFile(p))
	}
	inline := false
	if at(s, "helm", "values") != nil {
		r.Values = append(r.Values, InlineValues(rel, doc, append(helmPath, "values")...))
		inline = true
	}
	if at(s, "helm", "valuesObject") != nil || (!inline && len(r.Values) == 0) {
		r.Values = append(r.Values, InlineValues(rel, doc, append(helmPath, "valuesObject")...))
	}
	if ps := items(at(s, "helm", "parameters")); len(ps) > 0 {
		vals := map[string]any{}
		for _, pn := range ps {
			p := yaml.NewRNode(pn)
			set := str(p, "name") + "=" + str(p, "value")
			parse := strvals.ParseInto
			if str(p, "forceString") == "true" {
				parse = strvals.ParseIntoString
			}
			if err := parse(set, vals); err != nil {
				return nil, fmt.Errorf("%s: helm.parameters %s: %w", id, str(p, "name"), err)
			}
		}
		r.Values = append(r.Values, Literal(id+" helm.parameters", vals))
	}
	if len(items(at(s, "helm", "fileParameters"))) > 0 {
		r.Notes = append(r.Notes, "helm.fileParameters not followed")
	}
	return r, nil
}

// valueFilePath resolves an Argo CD valueFiles entry.
func valueFilePath(rp *repo, app *yaml.RNode, chartDir, repoURL, vf string) (string, error) {
	if strings.Contains(vf, "://") {
		return "", fmt.Errorf("%s: a remote values file (not fetched)", vf)
	}
	if ref, rest, ok := strings.Cut(vf, "/"); ok && strings.HasPrefix(ref, "$") {
		for _, sn := range items(at(app, "spec", "sources")) {
			s := yaml.NewRNode(sn)
			if str(s, "ref") == ref[1:] {
				if repoURL != "" && normalizeURL(str(s, "repoURL")) != normalizeURL(repoURL) {
					return "", fmt.Errorf("%s: in another repository (%s)", vf, str(s, "repoURL"))
				}
				return rp.rel(rest)
			}
		}
		return "", fmt.Errorf("%s: no source has ref %s", vf, ref[1:])
	}
	return rp.join(chartDir, vf)
}

func normalizeURL(u string) string {
	u = strings.TrimSuffix(strings.TrimSuffix(strings.ToLower(u), "/"), ".git")
	u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	return strings.Replace(strings.TrimPrefix(u, "git@"), ":", "/", 1)
}

// PlanRelease is Plan for a release read by HelmRelease or Application:
// its name and namespace replace the options' when those are empty.
func PlanRelease(r *Release, controls []*catalog.Control, opts Options) (*Result, error) {
	if opts.Release == "" {
		opts.Release = r.Name
	}
	if opts.Namespace == "" {
		opts.Namespace = r.Namespace
	}
	if r.Remote == nil {
		return Plan(r.Chart, r.Values, controls, opts)
	}
	files, rc, err := fetchRemote(r, opts.Charts)
	if err != nil {
		return nil, err
	}
	return plan(r.Values, controls, opts, func(rp *repo) (*session, error) {
		return loadSession(rp, opts.Renderer, rc.archiveName(), files, rc)
	})
}

// RenderRelease renders a release read by HelmRelease or Application (its
// name and namespace replacing r's when those are empty), fetching its
// chart with charts when it comes from a Helm repository.
func (r Renderer) RenderRelease(rel *Release, charts *ChartCache) ([]Object, error) {
	r.Release = cmp(r.Release, rel.Name)
	r.Namespace = cmp(r.Namespace, rel.Namespace)
	if rel.Remote == nil {
		return r.Render(rel.Chart, rel.Values...)
	}
	files, rc, err := fetchRemote(rel, charts)
	if err != nil {
		return nil, err
	}
	rp, err := openRepo(r.Repo)
	if err != nil {
		return nil, err
	}
	defer rp.close()
	s, err := loadSession(rp, r, rc.archiveName(), files, rc)
	if err != nil {
		return nil, err
	}
	ls, err := loadLayers(rp, s, rel.Values)
	if err != nil {
		return nil, err
	}
	out, err := s.renderWith(ls.merged(), nil)
	if err != nil {
		return nil, err
	}
	return out.objects, nil
}

// fetchRemote fetches a release's chart; without a cache it is
// ErrExternalChart.
func fetchRemote(r *Release, charts *ChartCache) ([]*archive.BufferedFile, *RemoteChart, error) {
	if charts == nil {
		return nil, nil, fmt.Errorf("%s: %w (charts are not fetched offline)", r.Remote, ErrExternalChart)
	}
	files, rc, err := charts.Fetch(*r.Remote)
	if err != nil {
		return nil, nil, err
	}
	return files, &rc, nil
}

// PlanRepo plans every chart of the repository (Charts) on its own, with
// its values.yaml only. A chart that fails (a template error, a missing
// dependency) is reported in errs with its path, and the others are still
// planned; library charts are skipped.
func PlanRepo(controls []*catalog.Control, opts Options) (results []*Result, errs []error) {
	charts, err := Charts(cmp(opts.Repo, "."))
	if err != nil {
		return nil, []error{err}
	}
	for _, c := range charts {
		res, err := Plan(c, nil, controls, opts)
		switch {
		case errors.Is(err, ErrLibraryChart):
		case err != nil:
			errs = append(errs, err)
		default:
			results = append(results, res)
		}
	}
	return results, errs
}

// readDoc reads one document of a repository file.
func readDoc(repo, file string, doc int) (*yaml.RNode, string, error) {
	rp, err := openRepo(repo)
	if err != nil {
		return nil, "", err
	}
	defer rp.close()
	rel, err := rp.rel(file)
	if err != nil {
		return nil, "", err
	}
	data, err := rp.readFile(rel)
	if err != nil {
		return nil, "", err
	}
	f, err := yamledit.Parse(rel, data, yamledit.Options{})
	if err != nil {
		return nil, "", err
	}
	if doc < 0 || doc >= len(f.Docs) || f.Docs[doc].Node == nil {
		return nil, "", fmt.Errorf("%s: no document %d", rel, doc)
	}
	return f.Docs[doc].Node, rel, nil
}

func at(n *yaml.RNode, p ...string) *yaml.Node {
	if n == nil {
		return nil
	}
	v, err := lookupPath(n, p)
	if err != nil || v == nil {
		return nil
	}
	if y := v.YNode(); y.Kind == yaml.ScalarNode && y.Tag == "!!null" {
		return nil
	}
	return v.YNode()
}

func str(n *yaml.RNode, p ...string) string {
	v := at(n, p...)
	if v == nil || v.Kind != yaml.ScalarNode {
		return ""
	}
	return v.Value
}

func items(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}
