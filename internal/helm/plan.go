package helm

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/openapi"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/patch"
)

// DefaultMaxCandidates bounds the keys tried (each a render) per finding.
const DefaultMaxCandidates = 24

// Options tune Plan.
type Options struct {
	Renderer
	// Fixability lists what may be fixed; empty means auto only.
	Fixability []finding.Fixability
	// MinSeverity skips findings below it.
	MinSeverity finding.Severity
	// Check is passed to every check run (fix parameters per control).
	Check check.Options
	// MaxCandidates bounds the keys tried per finding
	// (DefaultMaxCandidates when 0).
	MaxCandidates int
	// Charts fetches the charts of releases whose chart comes from a Helm
	// repository (Release.Remote). Nil: no chart is fetched, and such a
	// release is ErrExternalChart.
	Charts *ChartCache
}

func (o Options) allows(f finding.Finding) bool {
	fx := o.Fixability
	if len(fx) == 0 {
		fx = []finding.Fixability{finding.FixAuto}
	}
	return slices.Contains(fx, f.Fixability) && f.Severity >= o.MinSeverity
}

// Result is what Plan found and did for one release of a chart. Nothing
// is written: Write writes the edited files.
type Result struct {
	// Repo is the repository directory; every path below is relative to it.
	Repo string
	// Chart is the chart directory; for a chart fetched from a Helm
	// repository (Remote), the archive's name (webapp-1.2.3.tgz), no file
	// of the repository.
	Chart  string
	Remote *RemoteChart
	// Release and Namespace are the release's name and namespace used to
	// render.
	Release   string
	Namespace string
	Sources   []ValuesSource
	// Objects is the render before any fix, After the render with every
	// accepted fix (the same objects when there is none).
	Objects []Object
	After   []Object
	// Fixes are the values keys set, each verified.
	Fixes []*Fix
	// Manual are the findings no values key fixes, with the patch to apply
	// after rendering.
	Manual []*Manual
	// Left are findings not selected (fixability, severity); suppressed
	// findings are not listed.
	Left []finding.Finding
	// Files are the edited files, with their old and new content.
	Files []*FileEdit
	// Renders counts the renders the plan took (the first two, one per
	// key tried, one to verify the edited files).
	Renders int
}

// Changed reports whether any file changes.
func (r *Result) Changed() bool {
	for _, f := range r.Files {
		if f.Changed() {
			return true
		}
	}
	return false
}

// FileEdit is one file the fixes edit.
type FileEdit struct {
	// Path is relative to the repository, with forward slashes.
	Path   string
	Before []byte
	// After is the new content; nil when it does not change.
	After []byte
}

// Changed reports whether the file has new content.
func (f *FileEdit) Changed() bool { return f.After != nil }

// Fix is one values key set to fix one or more findings.
type Fix struct {
	// ControlID is the control whose finding the key fixes.
	ControlID string
	// Key is the values key ([securityContext allowPrivilegeEscalation]);
	// KeyString writes it dotted.
	Key []string
	// Value is the value set, as YAML (false, RuntimeDefault, [ALL]).
	Value string
	// Source is the layer edited: File is the file, Document and Path say
	// where in it (a HelmRelease's spec.values...).
	Source ValuesSource
	// Line is the 1-based line of the key in the edited file.
	Line int
	// Created is true when the key was not in the file before.
	Created bool
	// Origin says how the key was found: "values" (the chart's values) or
	// "convention" (a common naming convention).
	Origin string
	// Findings are the findings the key fixes (a key read by several
	// containers or objects can fix several).
	Findings []finding.Finding
	// Patch is the catalog's fix for the first finding: the change the
	// key makes to the rendered object, as patches.
	Patch *patch.Fix
	// Rejected are the keys tried before this one, and why each was not
	// kept.
	Rejected []Attempt
	// ReviewNote is set when the key's old value carries a line comment
	// (pullPolicy: IfNotPresent # pull once): it may be deliberate, so
	// the fix needs review even when the control's fix is auto. Without
	// review allowed, such a finding is left (Result.Left).
	ReviewNote string
}

// KeyString writes the key dotted: containerSecurityContext.runAsNonRoot.
func (f *Fix) KeyString() string { return keyString(f.Key) }

// File is the edited file, relative to the repository.
func (f *Fix) File() string { return f.Source.File }

// Attempt is a key tried and not kept.
type Attempt struct {
	Key    string
	File   string
	Reason string
}

func (a Attempt) String() string { return a.Key + " (" + a.File + "): " + a.Reason }

// Manual is a finding that no values key fixes: the patch is to be applied
// to the rendered objects, by a kustomize post-renderer (helm
// --post-renderer, Flux spec.postRenderers, an Argo CD plugin) or a
// kustomize overlay over the rendered chart.
type Manual struct {
	Finding finding.Finding
	// Patch holds the strategic-merge patch and the RFC 6902 ops for the
	// rendered object; nil when the control has no fix template.
	Patch *patch.Fix
	// Kustomize is a kustomize patches entry (target and strategic-merge
	// patch), to append under a kustomization's or a Flux HelmRelease's
	// spec.postRenderers[].kustomize patches.
	Kustomize []byte
	// Reason says why no key works; Tried lists the keys tried.
	Reason string
	Tried  []Attempt
}

// snapshot is one render with its check results.
type snapshot struct {
	objects []Object
	keys    []string
	docs    map[string]any
	// results by fingerprint, and the fingerprints in object order.
	results map[string]*failing
	order   []string
	values  map[string]any
}

// failing is one failed control on one rendered object.
type failing struct {
	r   check.Result
	obj *Object
	key string
}

type planner struct {
	s        *session
	ls       *layers
	controls []*catalog.Control
	opts     Options
	base     *snapshot
	cur      *snapshot
	volatile allowedSet
	// repairedBy records the fix that made each finding pass.
	repairedBy map[string]*Fix
	res        *Result
}

// Plan renders the chart at chartDir with sources (in precedence order
// after the chart's values.yaml), checks every object, and for each
// failing control finds the values key that fixes it: a key of the chart's
// values or of the common conventions which, set in a copy of the values
// and rendered again, makes the control pass on that object and changes
// nothing else in the whole render but the fields the catalog's fix
// targets. The key is set in the highest-precedence editable source that
// already defines it (else the one that defines the longest part of it,
// else the last one); with no sources, in the chart's values.yaml. A
// finding no key fixes becomes a Manual with the patch to apply after
// rendering. The edited files are rendered faithfully (only the edited
// nodes change), read back, rendered and checked once more before they
// are returned. Nothing is written (see Result.Write).
func Plan(chartDir string, sources []ValuesSource, controls []*catalog.Control, opts Options) (*Result, error) {
	return plan(sources, controls, opts, func(rp *repo) (*session, error) {
		return newSession(rp, opts.Renderer, chartDir)
	})
}

// plan is Plan for the chart open returns.
func plan(sources []ValuesSource, controls []*catalog.Control, opts Options, open func(*repo) (*session, error)) (*Result, error) {
	rp, err := openRepo(opts.Repo)
	if err != nil {
		return nil, err
	}
	defer rp.close()
	s, err := open(rp)
	if err != nil {
		return nil, err
	}
	p, err := newPlannerSession(rp, s, sources, controls, opts)
	if err != nil {
		return nil, err
	}
	p.run()
	if err := p.finish(); err != nil {
		return nil, err
	}
	return p.res, nil
}

// newPlanner reads the chart and the values and renders them, twice: what
// differs between two renders of the same values (a random suffix, a
// generated certificate) is volatile and never counts as a change.
func newPlanner(rp *repo, chartDir string, sources []ValuesSource, controls []*catalog.Control, opts Options) (*planner, error) {
	s, err := newSession(rp, opts.Renderer, chartDir)
	if err != nil {
		return nil, err
	}
	return newPlannerSession(rp, s, sources, controls, opts)
}

// newPlannerSession is newPlanner for a chart already read.
func newPlannerSession(rp *repo, s *session, sources []ValuesSource, controls []*catalog.Control, opts Options) (*planner, error) {
	ls, err := loadLayers(rp, s, sources)
	if err != nil {
		return nil, err
	}
	openapi.Schema() // loaded once, before anything merges nodes
	p := &planner{s: s, ls: ls, controls: controls, opts: opts, repairedBy: map[string]*Fix{}}
	p.res = &Result{Repo: cmp(opts.Repo, "."), Chart: s.dir, Remote: s.remote, Release: opts.release(), Namespace: opts.namespace()}
	for _, l := range ls.list {
		p.res.Sources = append(p.res.Sources, l.src)
	}
	if p.base, err = p.snapshot(ls.merged(), nil); err != nil {
		return nil, err
	}
	again, err := p.snapshot(ls.merged(), nil)
	if err != nil {
		return nil, err
	}
	p.volatile = allowedSet{}
	for k, cs := range compareRenders(p.base, again, nil).changes {
		for _, c := range cs {
			p.volatile.add(k, c.ptr)
		}
	}
	p.cur = p.base
	p.res.Objects = p.base.objects
	return p, nil
}

// snapshot renders with the given user values (and, when not nil, chart
// values replacing the chart's values.yaml) and checks every object.
func (p *planner) snapshot(user, chartValues map[string]any) (*snapshot, error) {
	if p.res != nil {
		p.res.Renders++
	}
	out, err := p.s.renderWith(user, chartValues)
	if err != nil {
		return nil, err
	}
	sn := &snapshot{objects: out.objects, docs: map[string]any{}, results: map[string]*failing{}, values: out.values}
	for i := range sn.objects {
		o := &sn.objects[i]
		k := objectKey(o)
		if _, dup := sn.docs[k]; dup {
			k += fmt.Sprintf("|%d", i)
		}
		doc, err := nodeJSON(o.Node)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.Template, err)
		}
		sn.keys = append(sn.keys, k)
		sn.docs[k] = doc
		for _, r := range check.Run(p.controls, o.Object, p.opts.Check) {
			if r.Finding.Suppression != nil {
				continue
			}
			r.Finding.Position.Line = 0
			fp := r.Finding.Fingerprint()
			if _, dup := sn.results[fp]; dup {
				continue
			}
			sn.results[fp] = &failing{r: r, obj: o, key: k}
			sn.order = append(sn.order, fp)
		}
	}
	return sn, nil
}

func (p *planner) run() {
	for _, fp := range p.base.order {
		f := p.base.results[fp].r.Finding
		if !p.opts.allows(f) {
			p.res.Left = append(p.res.Left, f)
			continue
		}
		cur, still := p.cur.results[fp]
		if !still {
			if fx := p.repairedBy[fp]; fx != nil {
				fx.Findings = append(fx.Findings, f)
			}
			continue
		}
		p.fix(cur)
	}
}

// fix searches the key for one failing result.
func (p *planner) fix(cur *failing) {
	fx, err := patch.New(cur.r, cur.obj.Node)
	if err != nil {
		p.manual(cur, nil, "the control has no fix: "+err.Error(), nil)
		return
	}
	sc := newSearchContext(cur.r, cur.obj, p.cur.values, p.s.refs)
	cands := candidates(fx, sc)
	allowed := p.allowed(cur.r.Control)
	limit := cmpInt(p.opts.MaxCandidates, DefaultMaxCandidates)
	var tried []Attempt
	renders := 0
	for _, c := range cands {
		if renders >= limit {
			break
		}
		t, at, ok := p.trial(c)
		if !ok {
			if at.Reason != "" {
				tried = append(tried, at)
			}
			continue
		}
		renders++
		next, reason := p.evaluate(cur, t, allowed)
		if reason != "" {
			at.Reason = reason
			tried = append(tried, at)
			continue
		}
		if t.note != "" && cur.r.Finding.Fixability == finding.FixAuto && !p.opts.allows(asReview(cur.r.Finding, "")) {
			p.res.Left = append(p.res.Left, asReview(cur.r.Finding, reviewNote(c, t)))
			return
		}
		p.accept(cur, fx, c, t, next, tried)
		return
	}
	reason := "no values key of the chart or of the common conventions controls " + fieldOf(cur.r)
	if len(cands) == 0 {
		reason = "no values key could stand for " + fieldOf(cur.r)
	}
	p.manual(cur, fx, reason, tried)
}

func cmpInt(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func fieldOf(r check.Result) string {
	s := r.Finding.Path
	if r.Target.Container != "" {
		s += " (container " + r.Target.Container + ")"
	}
	return s
}

// trialEdit is a candidate applied to a copy of its layer.
type trialEdit struct {
	l       *layer
	doc     *yaml.RNode // the edited document (or, embedded, inner document)
	vals    map[string]any
	created bool
	// note is the line comment of a value the trial changes: a value set
	// with a comment may be deliberate.
	note  string
	user  map[string]any
	chart map[string]any // replaces the chart's values when l is the defaults
}

// trial sets the candidate's keys in a copy of the layer that should hold
// them. ok is false when the candidate cannot be tried; the attempt then
// says why (an empty reason: nothing worth reporting).
func (p *planner) trial(c candidate) (*trialEdit, Attempt, bool) {
	at := Attempt{Key: c.String()}
	l, err := p.target(c.sets[0].key)
	if err != nil {
		at.Reason = err.Error()
		return nil, at, false
	}
	at.File = l.src.String()
	for _, kv := range c.sets {
		if bp := blockedAt(p.cur.values, kv.key); bp != nil {
			at.Reason = keyString(bp) + " is not a map"
			return nil, at, false
		}
	}
	if v, ok := lookupValue(p.cur.values, c.sets[0].key); ok && len(c.sets) == 1 && valueEquals(v, c.sets[0].value) {
		at.Reason = "already set to " + describeValue(c.sets[0].value) + "; something else decides the field"
		return nil, at, false
	}
	t := &trialEdit{l: l}
	var root *yaml.RNode
	if l.embedded() {
		if l.innerNode != nil {
			root = l.innerNode.Copy()
		} else {
			root = yaml.NewRNode(&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"})
		}
	} else {
		doc, err := l.vf.doc(l.src.Document)
		if err != nil {
			at.Reason = err.Error()
			return nil, at, false
		}
		if doc == nil {
			if l.src.Document != 0 || len(l.vf.f.Docs) > 1 {
				at.Reason = "the values document is empty and cannot be edited in place"
				return nil, at, false
			}
			root = yaml.NewRNode(&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"})
		} else {
			root = doc.Copy()
		}
	}
	changed := false
	for _, kv := range c.sets {
		path := l.src.Path
		if l.embedded() {
			path = nil
		}
		before, _ := lookupPath(root, append(slices.Clone(path), kv.key...))
		if before == nil {
			t.created = true
		} else if c := lineComment(root, append(slices.Clone(path), kv.key...)); c != "" && t.note == "" {
			t.note = c
		}
		ch, err := setPath(root.YNode(), path, kv.key, kv.value)
		if err != nil {
			at.Reason = err.Error()
			return nil, at, false
		}
		changed = changed || ch
	}
	if !changed {
		at.Reason = "the file already sets it"
		return nil, at, false
	}
	t.doc = root
	vn := root
	if !l.embedded() {
		vn, _ = lookupPath(root, l.src.Path)
	}
	vn, err = mappingOrNil(vn, l.src)
	if err != nil {
		at.Reason = err.Error()
		return nil, at, false
	}
	if t.vals, err = decodeValues(vn); err != nil {
		at.Reason = err.Error()
		return nil, at, false
	}
	if l.defaults {
		t.user = p.ls.merged()
		t.chart = t.vals
	} else {
		saved := l.vals
		l.vals = t.vals
		t.user = p.ls.merged()
		l.vals = saved
		t.chart = p.ls.chartValues()
	}
	return t, at, true
}

// target picks the layer a key goes into: the highest-precedence editable
// layer that defines the key, else the one that defines the longest part
// of it, else the last editable layer; the chart's values.yaml when no
// layer is editable.
func (p *planner) target(key []string) (*layer, error) {
	var editable []*layer
	for _, l := range p.ls.list {
		if l.vf != nil {
			editable = append(editable, l)
		}
	}
	if len(editable) == 0 {
		if p.ls.defaults == nil {
			return nil, errors.New("the chart has no values.yaml and no values file was given")
		}
		return p.ls.defaults, nil
	}
	for i := len(editable) - 1; i >= 0; i-- {
		if _, ok := lookupValue(editable[i].vals, key); ok {
			return editable[i], nil
		}
	}
	best, depth := editable[len(editable)-1], 0
	for i := len(editable) - 1; i >= 0; i-- {
		if d := definedDepth(editable[i].vals, key); d > depth {
			best, depth = editable[i], d
		}
	}
	return best, nil
}

// evaluate renders a trial and says why it is not acceptable ("" when it
// is): it must change the render, only within the fields the control's
// fixes target, make the finding pass, and make nothing else fail.
func (p *planner) evaluate(cur *failing, t *trialEdit, allowed allowedSet) (*snapshot, string) {
	next, err := p.snapshot(t.user, t.chart)
	if err != nil {
		return nil, "the chart does not render with it: " + err.Error()
	}
	d := compareRenders(p.cur, next, p.volatile)
	if d.empty() {
		return nil, "changes nothing in the render"
	}
	var reasons []string
	fp := cur.r.Finding.Fingerprint()
	if _, still := next.results[fp]; still {
		reasons = append(reasons, fmt.Sprintf("%s still fails on %s", cur.r.Control.ID, describeObject(cur)))
	}
	if len(d.added) > 0 || len(d.removed) > 0 {
		reasons = append(reasons, fmt.Sprintf("adds or removes objects (%d added, %d removed)", len(d.added), len(d.removed)))
	}
	var outside []string
	for _, k := range next.keys {
		for _, c := range d.changes[k] {
			if !allowed.allows(k, c) {
				outside = append(outside, describeKey(k)+" "+c.String())
			}
		}
	}
	if len(outside) > 0 {
		more := ""
		if len(outside) > 3 {
			more = fmt.Sprintf(" and %d more", len(outside)-3)
			outside = outside[:3]
		}
		reasons = append(reasons, "also changes "+strings.Join(outside, ", ")+more)
	}
	for _, nfp := range next.order {
		if _, was := p.cur.results[nfp]; !was {
			nr := next.results[nfp]
			reasons = append(reasons, fmt.Sprintf("makes %s fail on %s", nr.r.Control.ID, describeObject(nr)))
			break
		}
	}
	if len(reasons) > 0 {
		return nil, strings.Join(reasons, "; ")
	}
	return next, ""
}

func describeObject(f *failing) string {
	s := f.obj.Ref.Kind + "/" + f.obj.Ref.Name
	if f.r.Target.Container != "" {
		s += " container " + f.r.Target.Container
	}
	return s
}

// accept commits a trial: its layer takes the edited copy, the render
// becomes current, and the findings that pass now are the fix's.
func (p *planner) accept(cur *failing, fx *patch.Fix, c candidate, t *trialEdit, next *snapshot, tried []Attempt) {
	l := t.l
	switch {
	case l.embedded():
		l.innerNode = t.doc
	default:
		l.vf.set(l.src.Document, t.doc)
	}
	l.vals = t.vals
	l.edited = true
	f := &Fix{
		ControlID: cur.r.Control.ID,
		Key:       c.sets[0].key,
		Value:     describeValue(c.sets[0].value),
		Source:    l.src,
		Created:   t.created,
		Origin:    c.origin,
		Findings:  []finding.Finding{cur.r.Finding},
		Patch:     fx,
		Rejected:  tried,
	}
	if t.note != "" {
		f.ReviewNote = reviewNote(c, t)
	}
	for fp := range p.cur.results {
		if _, still := next.results[fp]; !still {
			p.repairedBy[fp] = f
		}
	}
	p.cur = next
	p.res.Fixes = append(p.res.Fixes, f)
}

// allowed collects, for the control, the fields its fixes may change on
// every object where it fails now: the pointers of the fixes' RFC 6902
// ops (with the parents they add) and the control's fields (the
// container's own and the pod's default it inherits).
func (p *planner) allowed(c *catalog.Control) allowedSet {
	a := allowedSet{}
	for _, fp := range p.cur.order {
		f := p.cur.results[fp]
		if f.r.Control.ID != c.ID {
			continue
		}
		if fx, err := patch.New(f.r, f.obj.Node); err == nil {
			for _, op := range fx.JSONPatch {
				a.add(f.key, splitPointer(op.Path))
				if op.From != "" {
					a.add(f.key, splitPointer(op.From))
				}
			}
		}
		for _, ptr := range fieldPointers(f.r) {
			a.add(f.key, ptr)
		}
	}
	return a
}

// fieldPointers are the JSON pointers of a result's fields: the checked
// field (up to a list it iterates) and, for a container, the pod-level
// field it inherits.
func fieldPointers(r check.Result) [][]string {
	c := r.Control
	t := r.Target
	var out [][]string
	keys := func(s string) []string {
		f, err := catalog.ParseField(s)
		if err != nil {
			return nil
		}
		var ks []string
		for _, seg := range f.Expand(t.Container) {
			ks = append(ks, seg.Key)
			if seg.Each {
				break
			}
		}
		return ks
	}
	switch c.Check.Level {
	case catalog.LevelContainer:
		if t.ContainerType != "" {
			base := append(slices.Clone(t.TemplatePath), "spec", t.ContainerType, fmt.Sprint(t.ContainerIndex))
			out = append(out, append(base, keys(c.Check.Field)...))
		}
		if c.Check.PodField != "" {
			out = append(out, append(slices.Clone(t.TemplatePath), keys(c.Check.PodField)...))
		}
	case catalog.LevelPod:
		out = append(out, append(slices.Clone(t.TemplatePath), keys(c.Check.Field)...))
	default:
		out = append(out, keys(c.Check.Field))
	}
	return out
}

func splitPointer(p string) []string {
	if p == "" || p == "/" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	r := strings.NewReplacer("~1", "/", "~0", "~")
	for i, s := range parts {
		parts[i] = r.Replace(s)
	}
	return parts
}

// manual records a finding no key fixes.
func (p *planner) manual(cur *failing, fx *patch.Fix, reason string, tried []Attempt) {
	m := &Manual{Finding: cur.r.Finding, Patch: fx, Reason: reason, Tried: tried}
	if fx != nil {
		if k, err := kustomizePatch(cur.obj, fx); err == nil {
			m.Kustomize = k
		}
	}
	p.res.Manual = append(p.res.Manual, m)
}

// asReview returns the finding as one whose fix needs review.
func asReview(f finding.Finding, note string) finding.Finding {
	f.Fixability = finding.FixReview
	if note != "" {
		f.ReviewNote = note
	}
	return f
}

func reviewNote(c candidate, t *trialEdit) string {
	return fmt.Sprintf("%s is set explicitly with a comment (%s) in %s: kmend will not change it without review", c, t.note, t.l.src)
}

// lineComment returns the line comment of the value at p (or of its key),
// without the "#".
func lineComment(root *yaml.RNode, p []string) string {
	parent, err := lookupPath(root, p[:len(p)-1])
	if err != nil || parent == nil || parent.YNode().Kind != yaml.MappingNode {
		return ""
	}
	k, v := mapKey(parent.YNode(), p[len(p)-1]), mapValue(parent.YNode(), p[len(p)-1])
	for _, n := range []*yaml.Node{v, k} {
		if n != nil && n.LineComment != "" {
			return strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(n.LineComment), "#"))
		}
	}
	return ""
}

// blockedAt returns the first proper prefix of key that a values tree
// holds as something other than a map (a string, a list), nil when none.
func blockedAt(v map[string]any, key []string) []string {
	var cur any = v
	for i, k := range key[:len(key)-1] {
		m, _ := asMap(cur)
		x, ok := m[k]
		if !ok || x == nil {
			return nil
		}
		if _, isMap := asMap(x); !isMap {
			return key[:i+1]
		}
		cur = x
	}
	return nil
}

// lookupValue finds a key in a values tree.
func lookupValue(v map[string]any, key []string) (any, bool) {
	var cur any = v
	for _, k := range key {
		m, ok := asMap(cur)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// definedDepth is how many leading keys of key a values tree defines.
func definedDepth(v map[string]any, key []string) int {
	m := v
	for i, k := range key {
		x, ok := m[k]
		if !ok {
			return i
		}
		if m, ok = asMap(x); !ok {
			return i + 1
		}
	}
	return len(key)
}

// valueEquals compares a values-tree value with a YAML node as data.
func valueEquals(v any, n *yaml.Node) bool {
	want, err := decodeNodeJSON(n)
	if err != nil {
		return false
	}
	got, err := toJSONValue(v)
	if err != nil {
		return false
	}
	return len(diffValues(got, want)) == 0
}
