package check

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

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
	var out []Result
	tp, hasTemplate := TemplatePath(obj.Ref.Kind)
	var tmpl *yaml.RNode
	if hasTemplate {
		tmpl = lookupPath(obj.Node, tp)
	}
	ex := exemptions(obj.Node, tmpl)
	for _, c := range controls {
		if !applies(c, obj.Ref.Kind) {
			continue
		}
		e := &evaluator{c: c, obj: obj, params: params(c, opts.Params[c.ID]), tp: tp, tmpl: tmpl}
		switch c.Check.Level {
		case catalog.LevelObject:
			e.object()
		case catalog.LevelPod:
			if tmpl != nil {
				e.pod()
			}
		case catalog.LevelContainer:
			if tmpl != nil {
				e.containers()
			}
		}
		for i := range e.out {
			if s := ex.match(c); s != nil {
				e.out[i].Finding.Suppression = s
			}
		}
		out = append(out, e.out...)
	}
	return out
}

func applies(c *catalog.Control, kind string) bool {
	if len(c.Match.Kinds) > 0 {
		return slices.Contains(c.Match.Kinds, kind)
	}
	return slices.Contains(catalog.WorkloadKinds, kind)
}

func lookupPath(n *yaml.RNode, path []string) *yaml.RNode {
	if len(path) == 0 {
		return n
	}
	return lookup(n, path...)
}

type evaluator struct {
	c      *catalog.Control
	obj    manifest.Object
	params map[string]string
	tp     []string
	tmpl   *yaml.RNode
	out    []Result
}

// value is one resolved field: its node (nil when absent), printable path
// from the object's root, and JSON pointer from the level's base.
type value struct {
	node *yaml.RNode
	path string
	ptr  string
}

// resolve walks a field below base. A field with [] yields one value per
// (filtered) element; a missing list yields nothing.
func (e *evaluator) resolve(base *yaml.RNode, basePath, basePtr string, f catalog.Field) []value {
	if len(f) == 0 {
		return []value{{node: base, path: basePath, ptr: basePtr}}
	}
	seg := f[0]
	p := finding.JoinPath(basePath, seg.Key)
	ptr := basePtr + "/" + escapePointer(seg.Key)
	next := lookup(base, seg.Key)
	if !seg.Each {
		if next == nil {
			if hasEach(f[1:]) {
				return nil
			}
			for _, s := range f[1:] {
				ptr += "/" + escapePointer(s.Key)
			}
			return []value{{path: finding.JoinPath(p, f[1:].String()), ptr: ptr}}
		}
		return e.resolve(next, p, ptr, f[1:])
	}
	var out []value
	for i, el := range elements(next) {
		rn := yaml.NewRNode(el)
		if w := e.c.Check.Where; w != nil {
			vs := e.resolve(rn, "", "", parseField(w.Field))
			if len(vs) == 0 || !matches(&w.Matcher, vs[0].node) {
				continue
			}
		}
		out = append(out, e.resolve(rn, fmt.Sprintf("%s[%d]", p, i), fmt.Sprintf("%s/%d", ptr, i), f[1:])...)
	}
	return out
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

func escapePointer(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return pointerEscaper.Replace(s)
}

func hasEach(f catalog.Field) bool {
	for _, s := range f {
		if s.Each {
			return true
		}
	}
	return false
}

func (e *evaluator) templatePrefix() string { return strings.Join(e.tp, ".") }

func (e *evaluator) object() {
	for _, v := range e.resolve(e.obj.Node, "", "", parseField(e.c.Check.Field)) {
		e.judge(v, nil, Target{Level: catalog.LevelObject, TemplatePath: e.tp})
	}
}

func (e *evaluator) pod() {
	for _, v := range e.resolve(e.tmpl, e.templatePrefix(), "", parseField(e.c.Check.Field)) {
		e.judge(v, nil, Target{Level: catalog.LevelPod, TemplatePath: e.tp})
	}
}

func (e *evaluator) containers() {
	types := e.c.Check.ContainerTypes
	if len(types) == 0 {
		types = catalog.ContainerTypes
	}
	spec := lookup(e.tmpl, "spec")
	for _, ct := range types {
		for i, cn := range elements(lookup(spec, ct)) {
			c := yaml.NewRNode(cn)
			name := ""
			if n := lookup(c, "name"); n != nil {
				name = n.YNode().Value
			}
			f := parseField(e.c.Check.Field).Expand(name)
			base := finding.JoinPath(e.templatePrefix(), fmt.Sprintf("spec.%s[%d]", ct, i))
			t := Target{Level: catalog.LevelContainer, TemplatePath: e.tp, ContainerType: ct, ContainerIndex: i, Container: name, line: cn.Line}
			for _, v := range e.resolve(c, base, "", f) {
				var pod *value
				if v.node == nil && e.c.Check.PodField != "" {
					pf := parseField(e.c.Check.PodField).Expand(name)
					if vs := e.resolve(e.tmpl, e.templatePrefix(), "", pf); len(vs) == 1 {
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
func (e *evaluator) judge(v value, pod *value, t Target) {
	ch := e.c.Check
	reason := finding.Reason("")
	node, path, ptr := v.node, v.path, v.ptr
	switch {
	case v.node != nil:
		if risky(ch, v.node) {
			reason = finding.ReasonRisky
		}
	case pod != nil && pod.node != nil:
		if risky(ch, pod.node) {
			reason, node, path, ptr = finding.ReasonInherited, pod.node, pod.path, pod.ptr
			t.Level = catalog.LevelPod
		}
	case ch.Unset == "fail":
		reason = finding.ReasonUnset
	}
	if reason == "" {
		return
	}
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
	case node != nil && node.YNode().Line > 0:
		line = node.YNode().Line
	case t.line > 0:
		line = t.line
	}
	fx := e.c.Fix.Fixability
	var note string
	if reason == finding.ReasonRisky && fx == finding.FixAuto {
		if c := deliberate(e.obj.Node, node); c != "" {
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
		Message:       strings.TrimSpace(e.c.WhyText(string(reason), data)),
		Fixability:    fx,
		ReviewNote:    note,
		Position:      finding.Position{File: e.obj.Pos.File, Document: e.obj.Pos.Document, Line: line},
		Origin:        "kmend",
	}
	e.out = append(e.out, Result{Finding: f, Control: e.c, Data: data, Target: t, Node: node, Root: e.obj.Node})
}

func risky(ch catalog.Check, n *yaml.RNode) bool {
	if ch.Risky != nil && matches(ch.Risky, n) {
		return true
	}
	return ch.Safe != nil && !matches(ch.Safe, n)
}

// render returns a value's text and decoded form.
func render(n *yaml.RNode) (string, any) {
	y := n.YNode()
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
	s, _ := n.String()
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

func items(n *yaml.RNode) []string {
	y := n.YNode()
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
func keep(ch catalog.Check, n *yaml.RNode) []any {
	if n.YNode().Kind != yaml.SequenceNode {
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
func matches(m *catalog.Matcher, n *yaml.RNode) bool {
	if n == nil {
		return m.Present != nil && !*m.Present
	}
	if m.Present != nil && !*m.Present {
		return false
	}
	y := n.YNode()
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
		ok = ok && in(items(n), m.Contains, fold)
	}
	if len(m.ContainsAny) > 0 {
		ok = ok && slices.ContainsFunc(items(n), func(it string) bool { return in(m.ContainsAny, it, fold) })
	}
	if len(m.NotSubsetOf) > 0 {
		ok = ok && slices.ContainsFunc(items(n), func(it string) bool { return !in(m.NotSubsetOf, it, fold) })
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
func Applicable(controls []*catalog.Control, kind string) []*catalog.Control {
	var out []*catalog.Control
	for _, c := range controls {
		if applies(c, kind) {
			out = append(out, c)
		}
	}
	return out
}
