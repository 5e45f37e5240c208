package check

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
)

// Target says where a failing value lives, so a fix can be applied there.
type Target struct {
	// Level is where the failing value is: container, pod or object.
	Level string
	// TemplatePath leads from the object's root to the pod template.
	TemplatePath []string
	// ContainerType, ContainerIndex and Container name the container for
	// container-level controls.
	ContainerType  string
	ContainerIndex int
	Container      string
	// line is where the container starts, for findings about what it lacks.
	line int
}

// Result is one failed control with what a fix needs to know.
type Result struct {
	Finding finding.Finding
	Control *catalog.Control
	Data    catalog.TemplateData
	Target  Target
	// Node is the failing value's node, nil when unset; Root is the
	// object's root node.
	Node *yaml.RNode
	Root *yaml.RNode
}

// Redacted stands for the observed value of a sensitive check.
const Redacted = "(redacted)"

// Options tune a run.
type Options struct {
	// Params overrides fix parameters per control ID.
	Params map[string]map[string]string
}

// Run evaluates controls on one object. Objects without a pod template are
// only checked by object-level controls. Exempted findings come back with
// Finding.Suppression set.
func Run(controls []*catalog.Control, obj manifest.Object, opts Options) []Result {
	root := obj.Node.YNode()
	tp, hasTemplate := TemplatePath(obj.Ref.Kind)
	// Results are large: they gather in a reused buffer and are copied
	// once into a slice of the right size.
	buf := resultBuffers.Get().(*[]Result)
	e := &evaluator{obj: obj, root: root, tp: tp, out: *buf}
	if hasTemplate {
		e.tmpl = lookupNode(root, tp...)
		e.prefix = strings.Join(tp, ".")
	}
	ex := exemptions(root, e.tmpl)
	for _, c := range controls {
		if !applies(c, obj.Ref.Kind) {
			continue
		}
		e.c, e.params = c, params(c, opts.Params[c.ID])
		start := len(e.out)
		switch c.Check.Level {
		case catalog.LevelObject:
			e.object()
		case catalog.LevelPod:
			if e.tmpl != nil {
				e.pod()
			}
		case catalog.LevelContainer:
			if e.tmpl != nil {
				e.containers()
			}
		}
		if len(e.out) == start {
			continue
		}
		if s := ex.match(c); s != nil {
			for i := start; i < len(e.out); i++ {
				cp := *s
				e.out[i].Finding.Suppression = &cp
			}
		}
	}
	var out []Result
	if len(e.out) > 0 {
		out = slices.Clone(e.out)
	}
	clear(e.out) // drop the references to the object
	*buf = e.out[:0]
	resultBuffers.Put(buf)
	return out
}

// resultBuffers hold empty slices whose capacity Run reuses.
var resultBuffers = sync.Pool{New: func() any { return new([]Result) }}

func applies(c *catalog.Control, kind string) bool {
	if len(c.Match.Kinds) > 0 {
		return slices.Contains(c.Match.Kinds, kind)
	}
	return slices.Contains(catalog.WorkloadKinds, kind)
}

// evaluator checks one object; c and params are the control being
// evaluated, results accumulate in out.
type evaluator struct {
	obj  manifest.Object
	root *yaml.Node
	tp   []string
	// tmpl is the pod template (nil when the kind has none or it is
	// missing); prefix is its printable path.
	tmpl   *yaml.Node
	prefix string
	// ctrs caches the containers of each type, read on first use.
	ctrs []containerList
	// vals is scratch space for the values of a field.
	vals []value
	out  []Result

	c      *catalog.Control
	params map[string]string
}

// container is one container of the pod template.
type container struct {
	node  *yaml.Node
	name  string
	index int
	// path is the container's printable path from the object's root.
	path string
}

type containerList struct {
	typ  string
	list []container
}

// containersOf returns the containers of one type (containers,
// initContainers or ephemeralContainers), reading them once per object.
func (e *evaluator) containersOf(typ string) []container {
	for _, cl := range e.ctrs {
		if cl.typ == typ {
			return cl.list
		}
	}
	var list []container
	for i, cn := range elements(lookupNode(e.tmpl, "spec", typ)) {
		name := ""
		if n := lookupNode(cn, "name"); n != nil {
			name = n.Value
		}
		path := finding.JoinPath(e.prefix, "spec."+typ+"["+strconv.Itoa(i)+"]")
		list = append(list, container{node: cn, name: name, index: i, path: path})
	}
	e.ctrs = append(e.ctrs, containerList{typ: typ, list: list})
	return list
}

// value is one resolved field: its node (nil when absent) and what it takes
// to say where it is. The printable path and the JSON pointer are only
// built for failures (see where).
type value struct {
	node *yaml.Node
	// field is the field resolved and base the printable path of the node
	// it was resolved from.
	field catalog.Field
	base  string
	// idx holds the element index taken at each [] of field; depth is the
	// number of segments walked (len(field) unless a key is absent).
	idx   []int
	depth int
}

// where returns the value's printable path from the object's root and its
// JSON pointer from the node the field was resolved from. A path that is
// absent from some key on is written, from the key after that one, in the
// field's own notation.
func (v *value) where() (path, ptr string) {
	var pb, qb [128]byte
	p := append(pb[:0], v.base...)
	q := qb[:0]
	k := 0
	for i, seg := range v.field {
		q = append(q, '/')
		q = appendPointer(q, seg.Key)
		if i >= v.depth {
			continue
		}
		p = appendJoin(p, seg.Key)
		if seg.Each {
			p = append(p, '[')
			p = strconv.AppendInt(p, int64(v.idx[k]), 10)
			p = append(p, ']')
			q = append(q, '/')
			q = strconv.AppendInt(q, int64(v.idx[k]), 10)
			k++
		}
	}
	if v.depth < len(v.field) {
		p = appendJoin(p, v.field[v.depth:].String())
	}
	return string(p), string(q)
}

// appendJoin appends s to the path p as finding.JoinPath joins them.
func appendJoin(p []byte, s string) []byte {
	if s == "" {
		return p
	}
	if len(p) > 0 {
		p = append(p, '.')
	}
	return append(p, s...)
}

// appendPointer appends a key escaped for a JSON pointer (RFC 6901).
func appendPointer(b []byte, key string) []byte {
	for i := 0; i < len(key); i++ {
		switch key[i] {
		case '~':
			b = append(b, "~0"...)
		case '/':
			b = append(b, "~1"...)
		default:
			b = append(b, key[i])
		}
	}
	return b
}

// resolve appends to dst the values of field f below n, whose printable
// path is base. A field with [] yields one value per (filtered) element; a
// missing list yields nothing.
func (e *evaluator) resolve(dst []value, n *yaml.Node, f catalog.Field, base string) []value {
	return e.walk(dst, n, value{field: f, base: base})
}

// walk resolves v.field from segment v.depth on, n being the node reached.
func (e *evaluator) walk(dst []value, n *yaml.Node, v value) []value {
	f := v.field
	if v.depth == len(f) {
		v.node = n
		return append(dst, v)
	}
	seg := f[v.depth]
	next := lookupNode(n, seg.Key)
	v.depth++
	if !seg.Each {
		if next == nil {
			if hasEach(f[v.depth:]) {
				return dst
			}
			return append(dst, v)
		}
		return e.walk(dst, next, v)
	}
	idx := v.idx
	for i, el := range elements(next) {
		if w := e.c.Check.Where; w != nil {
			var first [1]value
			vs := e.resolve(first[:0], el, parseField(w.Field), "")
			if len(vs) == 0 || !matches(&w.Matcher, vs[0].node) {
				continue
			}
		}
		v.idx = append(idx[:len(idx):len(idx)], i)
		dst = e.walk(dst, el, v)
	}
	return dst
}

func hasEach(f catalog.Field) bool {
	for _, s := range f {
		if s.Each {
			return true
		}
	}
	return false
}

func (e *evaluator) object() {
	e.vals = e.resolve(e.vals[:0], e.root, parseField(e.c.Check.Field), "")
	for i := range e.vals {
		e.judge(&e.vals[i], nil, Target{Level: catalog.LevelObject, TemplatePath: e.tp})
	}
}

func (e *evaluator) pod() {
	e.vals = e.resolve(e.vals[:0], e.tmpl, parseField(e.c.Check.Field), e.prefix)
	for i := range e.vals {
		e.judge(&e.vals[i], nil, Target{Level: catalog.LevelPod, TemplatePath: e.tp})
	}
}

func (e *evaluator) containers() {
	ch := e.c.Check
	types := ch.ContainerTypes
	if len(types) == 0 {
		types = catalog.ContainerTypes
	}
	field := parseField(ch.Field)
	var podField catalog.Field
	if ch.PodField != "" {
		podField = parseField(ch.PodField)
	}
	for _, ct := range types {
		for _, c := range e.containersOf(ct) {
			t := Target{Level: catalog.LevelContainer, TemplatePath: e.tp, ContainerType: ct, ContainerIndex: c.index, Container: c.name, line: c.node.Line}
			e.vals = e.resolve(e.vals[:0], c.node, field.Expand(c.name), c.path)
			for i := range e.vals {
				v := &e.vals[i]
				var pod *value
				if v.node == nil && podField != nil {
					if vs := e.resolve(nil, e.tmpl, podField.Expand(c.name), e.prefix); len(vs) == 1 {
						pod = &vs[0]
					}
				}
				e.judge(v, pod, t)
			}
		}
	}
}

// judge decides about one value (and the pod-level one it inherits) and
// records a result when the control fails.
func (e *evaluator) judge(v, pod *value, t Target) {
	ch := e.c.Check
	reason := finding.Reason("")
	switch {
	case v.node != nil:
		if risky(ch, v.node) {
			reason = finding.ReasonRisky
		}
	case pod != nil && pod.node != nil:
		if risky(ch, pod.node) {
			reason, v = finding.ReasonInherited, pod
			t.Level = catalog.LevelPod
		}
	case ch.Unset == "fail":
		reason = finding.ReasonUnset
	}
	if reason == "" {
		return
	}
	node := v.node
	path, ptr := v.where()
	data := catalog.TemplateData{
		Params:    e.params,
		Container: t.Container,
		Field:     ch.Field,
		Pointer:   ptr,
		Reason:    string(reason),
	}
	if node != nil {
		data.Observed, data.Value = render(node)
		data.Keep = keep(ch, node)
		if ch.Sensitive {
			data.Observed, data.Value, data.Keep = Redacted, nil, nil
		}
	}
	line := e.obj.Pos.Line
	switch {
	case node != nil && node.Line > 0:
		line = node.Line
	case t.line > 0:
		line = t.line
	}
	fx := e.c.Fix.Fixability
	var note string
	if reason == finding.ReasonRisky && fx == finding.FixAuto {
		if c := deliberate(e.root, node); c != "" {
			fx = finding.FixReview
			note = "the value is set explicitly with a comment (" + c + "): kmend will not flip it without review"
		}
	}
	f := finding.Finding{
		ControlID:     e.c.ID,
		Title:         e.c.Title,
		Severity:      e.c.Severity,
		Object:        e.obj.Ref,
		Container:     t.Container,
		ContainerType: t.ContainerType,
		Path:          path,
		Reason:        reason,
		Observed:      data.Observed,
		Message:       strings.TrimSpace(whyText(e.c, string(reason), &data)),
		Fixability:    fx,
		ReviewNote:    note,
		Position:      finding.Position{File: e.obj.Pos.File, Document: e.obj.Pos.Document, Line: line},
		Origin:        "kmend",
	}
	var rn *yaml.RNode
	if node != nil {
		rn = yaml.NewRNode(node)
	}
	e.out = append(e.out, Result{Finding: f, Control: e.c, Data: data, Target: t, Node: rn, Root: e.obj.Node})
}

func risky(ch catalog.Check, n *yaml.Node) bool {
	if ch.Risky != nil && matches(ch.Risky, n) {
		return true
	}
	return ch.Safe != nil && !matches(ch.Safe, n)
}

// render returns a value's text and decoded form.
func render(y *yaml.Node) (string, any) {
	switch y.Kind {
	case yaml.ScalarNode:
		return scalar(y), scalar(y)
	case yaml.SequenceNode:
		var items []any
		var texts []string
		for _, c := range y.Content {
			s := scalar(deref(c))
			items = append(items, s)
			texts = append(texts, s)
		}
		return "[" + strings.Join(texts, ", ") + "]", items
	}
	s, _ := yaml.NewRNode(y).String()
	return strings.TrimSpace(s), nil
}

// scalar returns a scalar's canonical text. Plain YAML 1.1 booleans (yes,
// on, …), which Kubernetes' own decoder accepts, read as true or false.
func scalar(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return ""
	}
	if n.Style == 0 {
		switch n.Value {
		case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE":
			return "true"
		case "n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE":
			return "false"
		}
	}
	return n.Value
}

func items(y *yaml.Node) []string {
	if y.Kind == yaml.ScalarNode {
		return []string{scalar(y)}
	}
	var out []string
	for _, c := range y.Content {
		out = append(out, scalar(deref(c)))
	}
	return out
}

func eq(a, b string, fold bool) bool {
	if fold {
		return strings.EqualFold(a, b)
	}
	return a == b
}

func in(set []string, s string, fold bool) bool {
	return slices.ContainsFunc(set, func(x string) bool { return eq(x, s, fold) })
}

// keep returns, for a list value, the items the risky matcher does not
// object to.
func keep(ch catalog.Check, n *yaml.Node) []any {
	if n.Kind != yaml.SequenceNode {
		return nil
	}
	out := []any{}
	for _, it := range items(n) {
		bad := false
		if m := ch.Risky; m != nil {
			bad = in(m.ContainsAny, it, m.IgnoreCase) || (len(m.NotSubsetOf) > 0 && !in(m.NotSubsetOf, it, m.IgnoreCase))
		}
		if !bad {
			out = append(out, it)
		}
	}
	return out
}

// matches reports whether every condition of m holds for n (nil = absent).
func matches(m *catalog.Matcher, y *yaml.Node) bool {
	if y == nil {
		return m.Present != nil && !*m.Present
	}
	if m.Present != nil && !*m.Present {
		return false
	}
	s := scalar(y)
	fold := m.IgnoreCase
	ok := true
	if m.Equals != nil {
		ok = ok && y.Kind == yaml.ScalarNode && eq(s, m.Equals.Value, fold)
	}
	if len(m.In) > 0 {
		ok = ok && y.Kind == yaml.ScalarNode && in(m.In, s, fold)
	}
	if len(m.NotIn) > 0 {
		ok = ok && y.Kind == yaml.ScalarNode && !in(m.NotIn, s, fold)
	}
	if m.Regex != "" {
		ok = ok && y.Kind == yaml.ScalarNode && regex(m.Regex).MatchString(s)
	}
	if m.LessThan != nil || m.GreaterThan != nil {
		f, err := strconv.ParseFloat(s, 64)
		ok = ok && err == nil && (m.LessThan == nil || f < *m.LessThan) && (m.GreaterThan == nil || f > *m.GreaterThan)
	}
	if m.Contains != "" {
		ok = ok && in(items(y), m.Contains, fold)
	}
	if len(m.ContainsAny) > 0 {
		ok = ok && slices.ContainsFunc(items(y), func(it string) bool { return in(m.ContainsAny, it, fold) })
	}
	if len(m.NotSubsetOf) > 0 {
		ok = ok && slices.ContainsFunc(items(y), func(it string) bool { return !in(m.NotSubsetOf, it, fold) })
	}
	if len(m.ImageTagIn) > 0 {
		ok = ok && y.Kind == yaml.ScalarNode && in(m.ImageTagIn, ImageTag(s), fold)
	}
	if m.NoDigest {
		ok = ok && y.Kind == yaml.ScalarNode && !strings.Contains(s, "@")
	}
	return ok
}

// ImageTag returns an image reference's tag: "" when it has neither tag nor
// digest, "@digest" when it is pinned by digest only.
func ImageTag(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
		last := ref[strings.LastIndex(ref, "/")+1:]
		if j := strings.LastIndex(last, ":"); j >= 0 {
			return last[j+1:]
		}
		return "@digest"
	}
	last := ref[strings.LastIndex(ref, "/")+1:]
	if j := strings.LastIndex(last, ":"); j >= 0 {
		return last[j+1:]
	}
	return ""
}

// Applicable returns the controls that apply to objects of a kind.
// AppliesToKind says whether any of controls checks objects of kind.
func AppliesToKind(controls []*catalog.Control, kind string) bool {
	return slices.ContainsFunc(controls, func(c *catalog.Control) bool { return applies(c, kind) })
}

func Applicable(controls []*catalog.Control, kind string) []*catalog.Control {
	var out []*catalog.Control
	for _, c := range controls {
		if applies(c, kind) {
			out = append(out, c)
		}
	}
	return out
}
