package patch

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/kustomize/kyaml/yaml/merge2"
	syaml "sigs.k8s.io/yaml"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
)

// Fix is one control's remediation for one target of one object.
type Fix struct {
	Result check.Result
	// Level is where the templates apply: container, pod or object.
	Level string
	// Base is the path of keys from the object's root to the node the
	// templates apply to; BasePointer is the same as a JSON pointer.
	Base        []string
	BasePointer string
	// Relative is the rendered strategic-merge template (relative to Base).
	Relative *yaml.RNode
	// RelativeOps are the rendered RFC 6902 ops (relative to Base).
	RelativeOps []catalog.Op
	// StrategicMerge is the patch for the whole object (YAML);
	// StrategicMergeJSON is the same patch as JSON.
	StrategicMerge     []byte
	StrategicMergeJSON []byte
	// JSONPatch holds the RFC 6902 operations for the whole object, made to
	// apply to this object (missing parents are added first).
	JSONPatch []catalog.Op
	// Kubectl holds ready-to-run kubectl patch commands (strategic, json).
	Kubectl []string
	// Note is a caveat about applying the patch to a live object.
	Note string

	// opsGive is what JSONPatch gave when NewWithDoc applied it to the
	// object's JSON, opsOn: VerifyDocs uses it, once, instead of applying
	// the ops again.
	opsOn, opsGive []byte
}

// Key identifies what a fix does, so that one pod-level fix that repairs
// several containers is applied once.
func (f *Fix) Key() string {
	s, _ := f.Relative.String()
	return f.Result.Control.ID + "|" + f.BasePointer + "|" + s
}

// New renders the fix for a result on obj (the object's root node, as it is
// before the fix). The result's control must have fix templates.
func New(r check.Result, obj *yaml.RNode) (*Fix, error) {
	objJSON, err := JSON(obj)
	if err != nil {
		return nil, err
	}
	return NewWithJSON(r, obj, objJSON)
}

// NewWithJSON is New for a caller that already has the object as JSON.
func NewWithJSON(r check.Result, obj *yaml.RNode, objJSON []byte) (*Fix, error) {
	return newFix(r, NewDoc(objJSON), false)
}

// NewWithDoc is New for a caller that has the object as a Doc and is about
// to verify the fix against it with VerifyDocs: the fix keeps what its RFC
// 6902 ops gave when applied to obj, for VerifyDocs to use.
func NewWithDoc(r check.Result, obj *Doc) (*Fix, error) {
	return newFix(r, obj, true)
}

func newFix(r check.Result, obj *Doc, keepOps bool) (*Fix, error) {
	c := r.Control
	smp, ops, level := c.Fix.StrategicMerge, c.Fix.JSONPatch, c.Fix.Level
	if level == "" {
		level = c.Check.Level
	}
	if c.Fix.Pod != nil && c.Check.Level == catalog.LevelContainer &&
		(r.Finding.Reason == finding.ReasonUnset || r.Finding.Reason == finding.ReasonInherited) {
		smp, ops, level = c.Fix.Pod.StrategicMerge, c.Fix.Pod.JSONPatch, catalog.LevelPod
	}
	if smp == "" || ops == "" {
		return nil, fmt.Errorf("control %s has no fix template", c.ID)
	}
	f := &Fix{Result: r, Level: level}
	t := r.Target
	switch level {
	case catalog.LevelObject:
		f.Base = nil
	case catalog.LevelPod:
		f.Base = append([]string{}, t.TemplatePath...)
	case catalog.LevelContainer:
		if t.ContainerType == "" {
			return nil, fmt.Errorf("control %s: a container-level fix needs a container-level finding", c.ID)
		}
		f.Base = append(append([]string{}, t.TemplatePath...), "spec", t.ContainerType, strconv.Itoa(t.ContainerIndex))
	}
	f.BasePointer = pointer(f.Base)

	text, err := catalog.Render(c.ID+" strategicMerge", smp, r.Data)
	if err != nil {
		return nil, err
	}
	rel, err := parsedTemplates.get(text, parseRelative)
	if err != nil {
		return nil, fmt.Errorf("control %s: strategicMerge renders invalid YAML: %w", c.ID, err)
	}
	f.Relative = rel.node.Copy()
	text, err = catalog.Render(c.ID+" jsonPatch", ops, r.Data)
	if err != nil {
		return nil, err
	}
	relOps, err := parsedOps.get(text, func(text string) ([]catalog.Op, error) { return catalog.ParseOps([]byte(text)) })
	if err != nil {
		return nil, fmt.Errorf("control %s: jsonPatch: %w", c.ID, err)
	}
	f.RelativeOps = slices.Clone(relOps)
	applied, err := f.whole(rel, obj)
	if err != nil {
		return nil, err
	}
	if keepOps && applied != nil {
		f.opsOn, f.opsGive = obj.JSON, applied
	}
	return f, nil
}

// relative is a rendered strategic-merge template, parsed: the YAML node,
// and the value sigs.k8s.io/yaml reads from the node's text (or why it
// cannot).
type relative struct {
	node     *yaml.RNode
	value    map[string]any
	valueErr error
}

func parseRelative(text string) (relative, error) {
	n, err := yaml.Parse(text)
	if err != nil {
		return relative{}, err
	}
	r := relative{node: n}
	s, err := n.String()
	if err != nil {
		r.valueErr = err
		return r, nil
	}
	r.valueErr = syaml.Unmarshal([]byte(s), &r.value)
	return r, nil
}

// Rendered templates repeat (one text per control and parameters, mostly),
// so what is parsed from them is kept. The values are shared and never
// changed.
var (
	parsedTemplates memo[relative]
	parsedOps       memo[[]catalog.Op]
	yamlOfJSON      memo[[]byte]
)

// Apply applies the fix to obj, the object's root node, with kyaml's
// merge2. The whole-object patch is merged at the root so that kyaml knows
// the object's kind and merges lists such as containers and env by their
// keys, as apimachinery's strategic merge does. Comments of obj are kept.
func (f *Fix) Apply(obj *yaml.RNode) error {
	target, err := nodeAt(obj, f.Base)
	if err != nil {
		return err
	}
	opts := yaml.MergeOptions{ListIncreaseDirection: yaml.MergeOptionsListAppend}
	if !hasSequence(f.Relative.YNode()) {
		// No list to merge by key: merging at the base is the same and
		// much cheaper than walking the whole object.
		_, err = merge2.Merge(f.Relative.Copy(), target, opts)
		return err
	}
	p, err := yaml.Parse(string(f.StrategicMerge))
	if err != nil {
		return err
	}
	_, err = merge2.Merge(p, obj, opts)
	return err
}

// ApplyUndoable applies the fix to obj as Apply does, and returns a
// function that puts obj back as it was before, for a caller that edits obj
// in place and keeps the edit only once it is verified. It saves only what
// Apply can change: the base node when the fix is merged there, else the
// whole object.
func (f *Fix) ApplyUndoable(obj *yaml.RNode) (undo func(), err error) {
	changed := obj
	if !hasSequence(f.Relative.YNode()) {
		if changed, err = nodeAt(obj, f.Base); err != nil {
			return func() {}, err
		}
	}
	saved := yaml.CopyYNode(changed.YNode())
	undo = func() { *changed.YNode() = *saved }
	return undo, f.Apply(obj)
}

func hasSequence(n *yaml.Node) bool {
	if n.Kind == yaml.SequenceNode {
		return true
	}
	for _, c := range n.Content {
		if hasSequence(c) {
			return true
		}
	}
	return false
}

// JSON returns a node's value as JSON. It decodes the node directly instead
// of printing and re-parsing it, as RNode.MarshalJSON does.
func JSON(n *yaml.RNode) ([]byte, error) {
	var v any
	if err := n.YNode().Decode(&v); err == nil {
		if b, err := json.Marshal(v); err == nil {
			return b, nil
		}
	}
	return n.MarshalJSON() // non-string keys and other rarities
}

// nodeAt walks keys (and list indexes) from n.
func nodeAt(n *yaml.RNode, path []string) (*yaml.RNode, error) {
	cur := n
	for _, k := range path {
		y := cur.YNode()
		switch y.Kind {
		case yaml.MappingNode:
			f := cur.Field(k)
			if f == nil {
				return nil, fmt.Errorf("path %s: no key %q", strings.Join(path, "."), k)
			}
			cur = f.Value
		case yaml.SequenceNode:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(y.Content) {
				return nil, fmt.Errorf("path %s: no element %s", strings.Join(path, "."), k)
			}
			cur = yaml.NewRNode(y.Content[i])
		default:
			return nil, fmt.Errorf("path %s: %q is not a mapping or list", strings.Join(path, "."), k)
		}
	}
	return cur, nil
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

func pointer(path []string) string {
	var b strings.Builder
	for _, p := range path {
		b.WriteByte('/')
		b.WriteString(pointerEscaper.Replace(p))
	}
	return b.String()
}

// whole builds the object-level forms: the strategic-merge patch nests the
// relative patch under the object's path (a container becomes a list element
// keyed by its name, as strategic merge expects), the JSON ops get the base
// prefix and any parents the object lacks. It returns what the ops give
// when applied to obj, when that is known.
func (f *Fix) whole(relative relative, obj *Doc) ([]byte, error) {
	if relative.valueErr != nil {
		return nil, relative.valueErr
	}
	var patch any = relative.value
	path := f.Base
	if f.Level == catalog.LevelContainer {
		// The parsed template is shared: the name goes into a copy.
		rel := maps.Clone(relative.value)
		rel["name"] = f.Result.Target.Container
		n := len(path)
		patch = map[string]any{path[n-2]: []any{rel}}
		path = path[:n-2]
	}
	for i := len(path) - 1; i >= 0; i-- {
		patch = map[string]any{path[i]: patch}
	}
	var err error
	if f.StrategicMergeJSON, err = json.Marshal(patch); err != nil {
		return nil, err
	}
	smp, err := yamlOfJSON.get(string(f.StrategicMergeJSON), func(j string) ([]byte, error) { return syaml.JSONToYAML([]byte(j)) })
	if err != nil {
		return nil, err
	}
	f.StrategicMerge = slices.Clone(smp)
	var applied []byte
	if f.JSONPatch, applied, err = absoluteOpsOf(obj, f.BasePointer, f.RelativeOps); err != nil {
		return nil, fmt.Errorf("control %s: %w", f.Result.Control.ID, err)
	}
	f.kubectl()
	return applied, nil
}

func (f *Fix) kubectl() {
	ref := f.Result.Finding.Object
	target := strings.ToLower(ref.Kind) + "/" + ref.Name
	ns := ""
	if ref.Namespace != "" {
		ns = " -n " + ref.Namespace
	}
	ops, _ := json.Marshal(f.JSONPatch)
	f.Kubectl = []string{
		fmt.Sprintf("kubectl patch %s%s --type strategic -p %s", target, ns, shellQuote(string(f.StrategicMergeJSON))),
		fmt.Sprintf("kubectl patch %s%s --type json -p %s", target, ns, shellQuote(string(ops))),
	}
	if f.Result.Target.ContainerType == "ephemeralContainers" {
		f.Note = "ephemeral containers cannot be changed with kubectl patch on a running Pod; change the source and recreate the debug container"
	} else if ref.Kind == "Pod" && f.Level != catalog.LevelObject {
		f.Note = "most fields of a running Pod are immutable: apply the patch to the Pod's source and recreate it"
	}
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
