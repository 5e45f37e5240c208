package sourcemap

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// argoApp is what the Mapper keeps of an Argo CD Application.
type argoApp struct {
	id      nsName
	destNS  string
	sources []argoSource
	node    *yaml.RNode
}

// argoSource is one of an Application's sources.
type argoSource struct {
	repo    string // normalised
	path    string // as written
	hasPath bool
	rev     string
	chart   string
	ref     string // the name $<ref> in valueFiles refers to
	// Explicit source type, when set.
	helm, kustomize, directory bool
	valueFiles                 []string
	inlineValues               bool
	transform                  xform // Argo CD's kustomize options
	recurse                    bool  // directory.recurse
}

func readApplication(n *yaml.RNode) (*argoApp, error) {
	o, ok := readObject(n)
	if !ok || o.ref.Kind != "Application" || o.group != "argoproj.io" {
		return nil, fmt.Errorf("Applications: %s is not an argoproj.io Application", describeNode(o))
	}
	root := rootOf(n)
	a := &argoApp{id: nsName{o.ref.Namespace, o.ref.Name}, node: n}
	spec := get(root, "spec")
	a.destNS = str(at(spec, "destination", "namespace"))
	srcs := items(get(spec, "sources"))
	if len(srcs) == 0 {
		if s := get(spec, "source"); s != nil {
			srcs = []*yaml.Node{s}
		}
	}
	for _, s := range srcs {
		src := argoSource{
			repo:      NormalizeRepoURL(str(get(s, "repoURL"))),
			path:      str(get(s, "path")),
			hasPath:   get(s, "path") != nil,
			rev:       str(get(s, "targetRevision")),
			chart:     str(get(s, "chart")),
			ref:       str(get(s, "ref")),
			helm:      get(s, "helm") != nil,
			kustomize: get(s, "kustomize") != nil,
			directory: get(s, "directory") != nil,
		}
		h := get(s, "helm")
		src.valueFiles = scalars(get(h, "valueFiles"))
		src.inlineValues = nonEmpty(get(h, "values")) || nonEmpty(get(h, "valuesObject")) || nonEmpty(get(h, "parameters"))
		k := get(s, "kustomize")
		src.transform = xform{prefix: str(get(k, "namePrefix")), suffix: str(get(k, "nameSuffix")), ns: str(get(k, "namespace"))}
		src.recurse = str(at(s, "directory", "recurse")) == "true"
		a.sources = append(a.sources, src)
	}
	return a, nil
}

func rootOf(n *yaml.RNode) *yaml.Node {
	r := deref(n.YNode())
	if r != nil && r.Kind == yaml.DocumentNode && len(r.Content) == 1 {
		r = deref(r.Content[0])
	}
	return r
}

func describeNode(o *object) string {
	if o == nil {
		return "an object without apiVersion or kind"
	}
	return o.ref.APIVersion + " " + o.ref.String()
}

// trackingID is a parsed argocd.argoproj.io/tracking-id.
type trackingID struct {
	app, group, kind, ns, name string
}

// parseTrackingID reads <app>:<group>/<kind>:<namespace>/<name>, the
// format Argo CD writes (the group is empty for the core group).
func parseTrackingID(v string) (trackingID, error) {
	parts := strings.SplitN(v, ":", 3)
	if len(parts) != 3 || parts[0] == "" {
		return trackingID{}, fmt.Errorf("%w: malformed %s %q", ErrUntrusted, annotationTrackingID, v)
	}
	gk := strings.Split(parts[1], "/")
	nn := strings.Split(parts[2], "/")
	if len(gk) != 2 || len(nn) != 2 || gk[1] == "" || nn[1] == "" {
		return trackingID{}, fmt.Errorf("%w: malformed %s %q", ErrUntrusted, annotationTrackingID, v)
	}
	return trackingID{app: parts[0], group: gk[0], kind: gk[1], ns: nn[0], name: nn[1]}, nil
}

// findApps returns the Applications an instance name refers to:
// "<namespace>_<name>" or a bare name (an Application in Argo CD's own
// namespace: the one named ArgoCDNamespace when several share the name).
func (m *Mapper) findApps(instance string) []*argoApp {
	if ns, name, ok := strings.Cut(instance, "_"); ok {
		for _, a := range m.apps[name] {
			if a.id.ns == ns {
				return []*argoApp{a}
			}
		}
		return nil
	}
	apps := m.apps[instance]
	if len(apps) > 1 && m.argoNS != "" {
		for _, a := range apps {
			if a.id.ns == m.argoNS {
				return []*argoApp{a}
			}
		}
	}
	return apps
}

// trackedApps checks o's tracking-id and returns the Applications it
// names. It returns ok false when o has no tracking-id.
func (m *Mapper) trackedApps(o *object) (apps []*argoApp, tid string, ok bool, err error) {
	tid = o.annotation(annotationTrackingID)
	if tid == "" {
		return nil, "", false, nil
	}
	t, err := parseTrackingID(tid)
	if err != nil {
		return nil, tid, true, err
	}
	if t.group != o.group || t.kind != o.ref.Kind || t.name != o.ref.Name {
		return nil, tid, true, fmt.Errorf("%w: %s %s names %s/%s %s/%s, not this object", ErrUntrusted,
			annotationTrackingID, tid, orCore(t.group), t.kind, t.ns, t.name)
	}
	apps = m.findApps(t.app)
	if len(apps) == 0 {
		return nil, tid, true, fmt.Errorf("%w: %s %s names Application %s, which is not known", ErrNotFound, annotationTrackingID, tid, t.app)
	}
	// Argo CD writes the Application's destination namespace into the
	// tracking-id of a cluster-scoped object.
	apps = slices.DeleteFunc(slices.Clone(apps), func(a *argoApp) bool {
		return t.ns != o.ref.Namespace && (o.ref.Namespace != "" || t.ns != a.destNS)
	})
	if len(apps) == 0 {
		return nil, tid, true, fmt.Errorf("%w: %s %s names namespace %q, the object is in %q", ErrUntrusted,
			annotationTrackingID, tid, t.ns, o.ref.Namespace)
	}
	return apps, tid, true, nil
}

func orCore(g string) string {
	if g == "" {
		return "core"
	}
	return g
}

// byArgoCD follows Argo CD's tracking-id, else its instance label.
func (m *Mapper) byArgoCD(o *object, depth int) (outcome, bool) {
	apps, tid, ok, err := m.trackedApps(o)
	if ok {
		if err != nil {
			return fail(err), true
		}
		return m.resolveApps(apps, o, ConfidenceMedium, "argocd tracking-id "+tid, depth), true
	}
	// The instance label is only a hint (Helm charts set it to their
	// release name): Flux's exact labels go first.
	if o.label(labelHelmName) != "" || o.label(labelKustomizeName) != "" {
		return outcome{}, false
	}
	if inst := o.label(labelInstance); inst != "" {
		if apps := m.findApps(inst); len(apps) > 0 {
			return m.resolveApps(apps, o, ConfidenceLow, "label "+labelInstance+"="+inst, depth), true
		}
	}
	return outcome{}, false
}

// resolveApps resolves each Application; several give their candidates
// together.
func (m *Mapper) resolveApps(apps []*argoApp, o *object, conf Confidence, trail string, depth int) outcome {
	if len(apps) == 1 {
		return m.resolveApp(apps[0], o, conf, trail+" → Application "+apps[0].id.String(), depth)
	}
	var cands []Location
	var names []string
	for _, a := range apps {
		names = append(names, a.id.String())
		out := m.resolveApp(a, o, conf, trail+" → Application "+a.id.String(), depth)
		if out.loc != nil {
			cands = append(cands, *out.loc)
		}
		cands = append(cands, out.cands...)
	}
	if len(cands) == 0 {
		return fail(fmt.Errorf("%w: %s: Applications %s: none holds the object", ErrNotFound, trail, strings.Join(names, ", ")))
	}
	return ambiguous(trail+" → Applications "+strings.Join(names, ", "), cands)
}

// refSource returns the source whose ref is name.
func (a *argoApp) refSource(name string) *argoSource {
	for i := range a.sources {
		if a.sources[i].ref == name {
			return &a.sources[i]
		}
	}
	return nil
}

// candidate is a search hit with its namespace tier.
type candidate struct {
	loc  Location
	tier int
}

// resolveApp finds o in the sources of Application a.
func (m *Mapper) resolveApp(a *argoApp, o *object, conf Confidence, trail string, depth int) outcome {
	var hits []candidate
	var helm, foreign []Location
	var notes []string
	var firstErr error
	for i := range a.sources {
		src := &a.sources[i]
		if src.chart == "" && !src.hasPath && src.ref != "" {
			continue // only there to be $ref'd by valueFiles
		}
		base := Location{Repo: src.repo, Ref: src.rev, Via: ViaArgoCD, Confidence: conf}
		if src.chart != "" {
			l := base
			l.Kind = KindHelm
			l.Detail = fmt.Sprintf("%s → chart %s", trail, src.chart)
			if src.rev != "" {
				l.Detail += " " + src.rev
			}
			l.Detail += " from " + src.repo + " (no file: rendered by Helm)"
			helm = append(helm, m.helmSource(a, src, o, l, "", depth))
			continue
		}
		rel, err := joinRel("", src.path)
		if err != nil {
			firstErr = cmp.Or(firstErr, fmt.Errorf("Application %s source.path: %w", a.id, err))
			continue
		}
		base.Path = rel
		c := m.checkout(src.repo)
		if c == nil {
			l := base
			l.Kind = KindPlain
			switch {
			case src.helm:
				l.Kind = KindHelm
			case src.kustomize:
				l.Kind = KindKustomize
			}
			l.Detail = fmt.Sprintf("%s → path %s: the source is in another repository (%s), not checked out", trail, orRoot(rel), src.repo)
			foreign = append(foreign, l)
			continue
		}
		dir, err := c.locateDir(rel)
		if err != nil {
			if isEscape(err) {
				firstErr = cmp.Or(firstErr, fmt.Errorf("Application %s source.path: %w", a.id, err))
			} else {
				notes = append(notes, fmt.Sprintf("path %s is not in the checkout of %s", orRoot(rel), orDefault(src.repo)))
			}
			continue
		}
		ix, err := c.index()
		if err != nil {
			return fail(err)
		}
		isHelm := ix.charts[dir] || (src.helm && ix.kusts[dir] == nil && !src.kustomize)
		if isHelm {
			l := base
			l.Kind = KindHelm
			l.Detail = fmt.Sprintf("%s → path %s: Helm chart (no file: rendered by Helm)", trail, orRoot(rel))
			helm = append(helm, m.helmSource(a, src, o, l, dir, depth))
			continue
		}
		var s *scope
		if ix.kusts[dir] != nil {
			s, err = c.scopeFor(dir, scopeKustomize, src.transform, false)
		} else {
			mode := scopeDir
			if src.recurse {
				mode = scopeTree
			}
			s, err = c.scopeFor(dir, mode, xform{}, false)
		}
		if err != nil {
			return fail(err)
		}
		for _, mt := range ix.search(s, o, a.destNS) {
			e := &ix.entries[mt.id]
			l := base
			l.File, l.Document, l.Line = e.file, e.doc, e.line
			l.Kind = KindPlain
			if s.key.mode == scopeKustomize {
				l.Kind = KindKustomize
			}
			l.Detail = fmt.Sprintf("%s → path %s", trail, orRoot(rel))
			if s.key.mode == scopeKustomize {
				l.Detail += " (kustomize)"
			}
			hits = append(hits, candidate{l, mt.tier})
		}
		if len(s.escaped) > 0 {
			notes = append(notes, fmt.Sprintf("resources leaving the checkout ignored: %s", strings.Join(s.escaped, ", ")))
		}
	}
	switch {
	case len(hits) > 0:
		return pickTier(trail, hits)
	case len(helm) > 0:
		return ambiguous(trail+" (several Helm sources)", helm)
	case len(foreign) > 0:
		return ambiguous(trail+" (several sources in other repositories)", foreign)
	case firstErr != nil:
		return fail(firstErr)
	}
	more := ""
	if len(notes) > 0 {
		more = " (" + strings.Join(notes, "; ") + ")"
	}
	return fail(fmt.Errorf("%w: %s: no %s %s in its sources%s", ErrNotFound, trail, o.ref.Kind, o.ref.Name, more))
}

func orDefault(repo string) string {
	if repo == "" {
		return "the default checkout"
	}
	return repo
}

// pickTier keeps the candidates of the best namespace tier.
func pickTier(what string, hits []candidate) outcome {
	top := hits[0].tier
	for _, h := range hits {
		top = min(top, h.tier)
	}
	var locs []Location
	for _, h := range hits {
		if h.tier == top {
			if top > 0 {
				h.loc.Detail += " (the file sets no namespace)"
			}
			locs = append(locs, h.loc)
		}
	}
	return ambiguous(what, locs)
}

// helmSource completes the location of a Helm source: its values files,
// the chart's template for o when the chart is checked out (dir is its
// directory there) and, when the Application carries inline values, the
// Application's own file.
func (m *Mapper) helmSource(a *argoApp, src *argoSource, o *object, l Location, dir string, depth int) Location {
	if src.inlineValues {
		r := m.locate(a.node, depth+1)
		if r.Location != nil && r.Location.File != "" {
			al := r.Location
			l.Kind = KindArgoCDApplication
			l.Repo, l.Ref, l.File, l.Document, l.Line = al.Repo, al.Ref, al.File, al.Document, al.Line
			l.Confidence = minConfidence(l.Confidence, al.Confidence)
			l.Detail += fmt.Sprintf("; inline values in Application %s, defined in %s (found via %s)", a.id, al.File, al.Via)
		} else {
			why := "not found"
			if r.Err != nil {
				why = r.Err.Error()
			}
			l.Detail += fmt.Sprintf("; inline values in Application %s, whose file was not found (%s)", a.id, why)
		}
	}
	var notes []string
	l.ValuesFiles, notes = m.valuesFiles(a, src, dir, l.Repo)
	if c := m.checkout(src.repo); src.chart == "" && c != nil {
		cf := c.chartFilesFor(dir, o.ref.Kind, o.ref.Name)
		if cf.values != "" {
			l.ValuesFiles = append([]string{qualify(src.repo, src.rev, l.Repo, l.Ref, cf.values)}, l.ValuesFiles...)
		}
		if cf.template != "" {
			l.Template = qualify(src.repo, src.rev, l.Repo, l.Ref, cf.template)
			l.Detail += "; template " + cf.template
		} else {
			notes = append(notes, cf.note)
		}
	}
	if len(notes) > 0 {
		l.Detail += "; " + strings.Join(notes, "; ")
	}
	return l
}

// valuesFiles resolves a Helm source's valueFiles: $ref/... against the
// source with that ref, others relative to the source's path (dir, the
// real directory in the checkout) or, for a chart from a Helm repository,
// as written (inside the chart). Paths in repository repo are relative to
// its root; others are "<repo>//<path>[?ref=<rev>]".
func (m *Mapper) valuesFiles(a *argoApp, src *argoSource, dir, repo string) ([]string, []string) {
	var out, notes []string
	for _, vf := range src.valueFiles {
		switch {
		case strings.HasPrefix(vf, "$"):
			name, rest, _ := strings.Cut(vf[1:], "/")
			rs := a.refSource(name)
			if rs == nil {
				notes = append(notes, "values file "+vf+": no source has ref "+name)
				continue
			}
			p, err := joinRel("", rest)
			if err != nil {
				notes = append(notes, "values file "+vf+" refused: "+err.Error())
				continue
			}
			if rs.repo == repo && repo != "" {
				out = append(out, p)
				continue
			}
			s := rs.repo + "//" + p
			if rs.rev != "" {
				s += "?ref=" + rs.rev
			}
			out = append(out, s)
		case strings.Contains(vf, "://"):
			out = append(out, vf)
		case src.chart != "":
			out = append(out, vf) // a file of the chart package
		default:
			if dir == "" {
				dir = path.Clean(src.path)
			}
			p, err := joinRel(dir, vf)
			if err != nil {
				notes = append(notes, "values file "+vf+" refused: "+err.Error())
				continue
			}
			if src.repo != repo {
				p = src.repo + "//" + p
			}
			out = append(out, p)
		}
	}
	return out, notes
}

func minConfidence(a, b Confidence) Confidence {
	rank := map[Confidence]int{ConfidenceLow: 0, ConfidenceMedium: 1, ConfidenceHigh: 2}
	if rank[a] <= rank[b] {
		return a
	}
	return b
}

// argoRoot returns the kustomization root of the single path source of the
// Application a verified tracking-id names.
func (m *Mapper) argoRoot(o *object) (root, bool, error) {
	apps, tid, ok, err := m.trackedApps(o)
	if !ok || err != nil || len(apps) != 1 {
		return root{}, false, nil // the Argo CD route will report it
	}
	a := apps[0]
	var found []root
	for _, src := range a.sources {
		if src.chart != "" || (!src.hasPath && src.ref != "") {
			continue
		}
		rel, err := joinRel("", src.path)
		if err != nil {
			return root{}, false, fmt.Errorf("Application %s source.path: %w", a.id, err)
		}
		found = append(found, root{c: m.checkout(src.repo), repo: src.repo, ref: src.rev, dir: rel,
			detail: "argocd tracking-id " + tid + " → Application " + a.id.String()})
	}
	if len(found) != 1 {
		return root{}, false, nil
	}
	r := found[0]
	if r.c != nil {
		dir, err := r.c.locateDir(r.dir)
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

// appRoot returns the kustomization root known from the Argo CD
// Application or Flux Kustomization that deployed o.
func (m *Mapper) appRoot(o *object) (root, bool, error) {
	if r, ok, err := m.argoRoot(o); ok || err != nil {
		return r, ok, err
	}
	return m.fluxRoot(o)
}
