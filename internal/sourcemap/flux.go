package sourcemap

import (
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// fluxKustomization is what the Mapper keeps of a Flux Kustomization.
type fluxKustomization struct {
	id        nsName
	path      string
	src       sourceRef
	transform xform // targetNamespace, namePrefix, nameSuffix
}

type sourceRef struct{ kind, name, ns string }

func (s sourceRef) String() string { return s.kind + " " + s.ns + "/" + s.name }

// gitRepository is what the Mapper keeps of a Flux GitRepository.
type gitRepository struct {
	id      nsName
	repo    string // normalised URL
	ref     string
	refKind string // commit, name, semver, tag or branch
}

// helmRelease is what the Mapper keeps of a Flux HelmRelease.
type helmRelease struct {
	id          nsName
	node        *yaml.RNode
	chart       string
	version     string
	src         sourceRef
	chartRef    bool // spec.chartRef (OCIRepository or HelmChart)
	inline      bool // spec.values is set
	valuesFrom  int
	valuesFiles []string // spec.chart.spec.valuesFiles
}

func readSourceRef(n *yaml.Node, defaultNS string) sourceRef {
	s := sourceRef{kind: str(get(n, "kind")), name: str(get(n, "name")), ns: str(get(n, "namespace"))}
	if s.ns == "" {
		s.ns = defaultNS
	}
	return s
}

func readFluxKustomization(n *yaml.RNode) (*fluxKustomization, error) {
	o, ok := readObject(n)
	if !ok || o.ref.Kind != "Kustomization" || o.group != "kustomize.toolkit.fluxcd.io" {
		return nil, fmt.Errorf("Kustomizations: %s is not a kustomize.toolkit.fluxcd.io Kustomization", describeNode(o))
	}
	spec := get(rootOf(n), "spec")
	return &fluxKustomization{
		id:   nsName{o.ref.Namespace, o.ref.Name},
		path: str(get(spec, "path")),
		src:  readSourceRef(get(spec, "sourceRef"), o.ref.Namespace),
		transform: xform{
			prefix: str(get(spec, "namePrefix")),
			suffix: str(get(spec, "nameSuffix")),
			ns:     str(get(spec, "targetNamespace")),
		},
	}, nil
}

func readGitRepository(n *yaml.RNode) (*gitRepository, error) {
	o, ok := readObject(n)
	if !ok || o.ref.Kind != "GitRepository" || o.group != "source.toolkit.fluxcd.io" {
		return nil, fmt.Errorf("GitRepositories: %s is not a source.toolkit.fluxcd.io GitRepository", describeNode(o))
	}
	spec := get(rootOf(n), "spec")
	g := &gitRepository{id: nsName{o.ref.Namespace, o.ref.Name}, repo: NormalizeRepoURL(str(get(spec, "url")))}
	// Flux's precedence: commit over name over semver over tag over
	// branch.
	ref := get(spec, "ref")
	for _, k := range []string{"commit", "name", "semver", "tag", "branch"} {
		if v := str(get(ref, k)); v != "" {
			g.ref, g.refKind = v, k
			break
		}
	}
	return g, nil
}

func readHelmRelease(n *yaml.RNode) (*helmRelease, error) {
	o, ok := readObject(n)
	if !ok || o.ref.Kind != "HelmRelease" || o.group != "helm.toolkit.fluxcd.io" {
		return nil, fmt.Errorf("HelmReleases: %s is not a helm.toolkit.fluxcd.io HelmRelease", describeNode(o))
	}
	spec := get(rootOf(n), "spec")
	h := &helmRelease{id: nsName{o.ref.Namespace, o.ref.Name}, node: n}
	if cr := get(spec, "chartRef"); cr != nil {
		h.chartRef = true
		h.src = readSourceRef(cr, o.ref.Namespace)
	} else {
		cs := at(spec, "chart", "spec")
		h.chart = str(get(cs, "chart"))
		h.version = str(get(cs, "version"))
		h.src = readSourceRef(get(cs, "sourceRef"), o.ref.Namespace)
		h.valuesFiles = scalars(get(cs, "valuesFiles"))
	}
	h.inline = nonEmpty(get(spec, "values"))
	h.valuesFrom = len(items(get(spec, "valuesFrom")))
	return h, nil
}

// fluxIDs reads the Flux labels name/namespace pair; the namespace
// defaults to the object's.
func fluxID(o *object, nameKey, nsKey string) (nsName, bool) {
	name := o.label(nameKey)
	if name == "" {
		return nsName{}, false
	}
	ns := o.label(nsKey)
	if ns == "" {
		ns = o.ref.Namespace
	}
	return nsName{ns, name}, true
}

// byFlux follows Flux's labels. The helm-controller's labels come first:
// an object rendered by a HelmRelease is defined by it, whatever else is
// on it.
func (m *Mapper) byFlux(o *object, depth int) (outcome, bool) {
	if id, ok := fluxID(o, labelHelmName, labelHelmNS); ok {
		h := m.releases[id]
		if h == nil {
			return fail(fmt.Errorf("%w: flux labels name HelmRelease %s, which is not known", ErrNotFound, id)), true
		}
		return m.resolveHelmRelease(h, o, depth), true
	}
	if id, ok := fluxID(o, labelKustomizeName, labelKustomizeNS); ok {
		k := m.ks[id]
		if k == nil {
			return fail(fmt.Errorf("%w: flux labels name Kustomization %s, which is not known", ErrNotFound, id)), true
		}
		return m.resolveFluxKustomization(k, o), true
	}
	return outcome{}, false
}

// fluxSource follows a Kustomization to its GitRepository and path.
func (m *Mapper) fluxSource(k *fluxKustomization) (g *gitRepository, rel, trail string, err error) {
	trail = "flux labels → Kustomization " + k.id.String()
	if k.src.kind != "GitRepository" {
		return nil, "", trail, nil
	}
	g = m.gitRepos[nsName{k.src.ns, k.src.name}]
	if g == nil {
		return nil, "", trail, fmt.Errorf("%w: %s → %s, which is not known", ErrNotFound, trail, k.src)
	}
	trail += " → GitRepository " + g.id.String() + " (" + g.repo
	if g.ref != "" {
		trail += ", " + g.refKind + " " + g.ref
	}
	trail += ")"
	rel, err = joinRel("", k.path)
	if err != nil {
		return nil, "", trail, fmt.Errorf("Kustomization %s spec.path: %w", k.id, err)
	}
	return g, rel, trail + " → path " + orRoot(rel), nil
}

func (m *Mapper) resolveFluxKustomization(k *fluxKustomization, o *object) outcome {
	g, rel, trail, err := m.fluxSource(k)
	if err != nil {
		return fail(err)
	}
	base := Location{Path: rel, Kind: KindFluxKustomization, Via: ViaFlux, Confidence: ConfidenceMedium}
	if g == nil {
		base.Path = k.path
		base.Detail = fmt.Sprintf("%s → source %s is not a Git repository: no file", trail, k.src)
		return found(base)
	}
	base.Repo, base.Ref = g.repo, g.ref
	c := m.checkout(g.repo)
	if c == nil {
		base.Detail = fmt.Sprintf("%s: the source is in another repository (%s), not checked out", trail, g.repo)
		return found(base)
	}
	dir, err := c.locateDir(rel)
	if err != nil {
		if isEscape(err) {
			return fail(fmt.Errorf("Kustomization %s spec.path: %w", k.id, err))
		}
		return fail(fmt.Errorf("%w: %s: not in the checkout of %s: %v", ErrNotFound, trail, g.repo, err))
	}
	s, err := c.scopeFor(dir, scopeTree, k.transform, true)
	if err != nil {
		return fail(err)
	}
	ix, _ := c.index()
	var hits []candidate
	for _, mt := range ix.search(s, o, "") {
		e := &ix.entries[mt.id]
		l := base
		l.File, l.Document, l.Line = e.file, e.doc, e.line
		l.Detail = trail
		if s.key.mode == scopeKustomize {
			l.Detail += " (kustomize)"
		}
		hits = append(hits, candidate{l, mt.tier})
	}
	if len(hits) == 0 {
		return fail(fmt.Errorf("%w: %s: no %s %s there", ErrNotFound, trail, o.ref.Kind, o.ref.Name))
	}
	return pickTier(trail, hits)
}

// resolveHelmRelease locates the file defining the HelmRelease: the fix
// goes into its values.
func (m *Mapper) resolveHelmRelease(h *helmRelease, o *object, depth int) outcome {
	trail := "flux labels → HelmRelease " + h.id.String()
	var chart, chartPath string
	var cf chartFiles
	var chartRepo, chartRev string
	switch {
	case h.chartRef:
		chart = "chartRef " + h.src.String() + " (external chart, no file)"
	case h.src.kind == "GitRepository":
		p, err := joinRel("", h.chart)
		if err != nil {
			return fail(fmt.Errorf("HelmRelease %s spec.chart.spec.chart: %w", h.id, err))
		}
		chartPath = p
		chart = "chart " + orRoot(p) + " from " + h.src.String()
		if g := m.gitRepos[nsName{h.src.ns, h.src.name}]; g != nil {
			chart += " (" + g.repo
			if g.ref != "" {
				chart += ", " + g.refKind + " " + g.ref
			}
			chart += ")"
			if c := m.checkout(g.repo); c != nil {
				dir, err := c.locateDir(p)
				if isEscape(err) {
					return fail(fmt.Errorf("HelmRelease %s spec.chart.spec.chart: %w", h.id, err))
				}
				if err == nil {
					cf = c.chartFilesFor(dir, o.ref.Kind, o.ref.Name)
					chartRepo, chartRev = g.repo, g.ref
					if len(h.valuesFiles) > 0 {
						// spec.chart.spec.valuesFiles replace the chart's
						// values.yaml; they are relative to the source.
						cf.values = ""
					}
				}
			}
		}
	default:
		chart = "chart " + h.chart
		if h.version != "" {
			chart += " " + h.version
		}
		chart += " from " + h.src.String() + " (external chart, no file)"
	}
	values := "no inline values"
	if h.inline {
		values = "inline values (spec.values)"
	}
	if h.valuesFrom > 0 {
		values += fmt.Sprintf(", %d valuesFrom not followed", h.valuesFrom)
	}
	r := m.locate(h.node, depth+1)
	conv := func(l Location) Location {
		inner := l
		l.Kind, l.Via, l.Path, l.ValuesFiles, l.Template = KindFluxHelmRelease, ViaFlux, chartPath, nil, ""
		l.Detail = fmt.Sprintf("%s → %s → %s in %s (HelmRelease found via %s: %s)", trail, chart, values, inner.File, inner.Via, inner.Detail)
		if l.ValuesPatches = m.valuesPatches(inner); len(l.ValuesPatches) > 0 {
			l.Detail += "; spec.values patched by " + strings.Join(l.ValuesPatches, ", ")
		}
		if chartRepo != "" {
			if cf.values != "" {
				l.ValuesFiles = append(l.ValuesFiles, qualify(chartRepo, chartRev, l.Repo, l.Ref, cf.values))
			}
			for _, vf := range h.valuesFiles {
				if p, err := joinRel("", vf); err == nil {
					l.ValuesFiles = append(l.ValuesFiles, qualify(chartRepo, chartRev, l.Repo, l.Ref, p))
				}
			}
			if cf.template != "" {
				l.Template = qualify(chartRepo, chartRev, l.Repo, l.Ref, cf.template)
				l.Detail += "; template " + cf.template
			} else {
				l.Detail += "; " + cf.note
			}
		}
		return l
	}
	switch {
	case r.Location != nil:
		return found(conv(*r.Location))
	case len(r.Candidates) > 0:
		cands := make([]Location, len(r.Candidates))
		for i, c := range r.Candidates {
			cands[i] = conv(c)
		}
		return outcome{cands: cands, err: fmt.Errorf("%s: the HelmRelease's file: %w", trail, r.Err)}
	}
	return fail(fmt.Errorf("%s: the HelmRelease's file: %w", trail, r.Err))
}

// fluxRoot returns the path of the Kustomization o's Flux labels name.
func (m *Mapper) fluxRoot(o *object) (root, bool, error) {
	id, ok := fluxID(o, labelKustomizeName, labelKustomizeNS)
	if !ok || m.ks[id] == nil {
		return root{}, false, nil
	}
	g, rel, trail, err := m.fluxSource(m.ks[id])
	if err != nil || g == nil {
		if isEscape(err) {
			return root{}, false, err
		}
		return root{}, false, nil
	}
	r := root{c: m.checkout(g.repo), repo: g.repo, ref: g.ref, dir: rel, detail: trail}
	if r.c != nil {
		dir, err := r.c.locateDir(rel)
		if err != nil {
			if isEscape(err) {
				return root{}, false, err
			}
			return root{}, false, nil
		}
		r.dir = dir
	}
	return r, true, nil
}
