package overlay

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/kustomize/kyaml/yaml/merge2"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/patch"
	"github.com/kmend/kmend/internal/yamledit"
)

// newPatchHeader heads every patch file kmend adds to an overlay.
const newPatchHeader = "# Added by kmend fix: settings this overlay needs and its bases do not set.\n"

// change computes the new content of the files an edit changes, in the
// view st. It returns the changed files and the ones besides e.file.
func (pl *planner) change(e *edit, st *view) (map[string][]byte, []string, error) {
	c := e.first()
	merge := func(doc *yaml.RNode) error { return mergeSMP(doc, c.fx.StrategicMerge) }
	switch e.placement {
	case PlacementResource:
		out, err := editDoc(st, c.info.origin.file, c.info.origin.doc, merge)
		if err != nil {
			return nil, nil, err
		}
		return map[string][]byte{e.file: out}, nil, nil
	case PlacementPatch:
		p := c.src.patch
		fn := func(doc *yaml.RNode) error {
			smp, err := widen(c.fx.StrategicMerge, c.info.obj.Node.YNode())
			if err != nil {
				return err
			}
			return mergeSMP(doc, smp)
		}
		if p.json {
			fn = func(doc *yaml.RNode) error {
				ops := doc.YNode()
				if c.src.op >= len(ops.Content) {
					return fmt.Errorf("%s: operation %d is gone", p.where(), c.src.op)
				}
				return editOp(ops.Content[c.src.op], c.src.opPath, c.fx, c.info.obj.Node.YNode())
			}
		}
		var out []byte
		var err error
		if p.file != "" {
			out, err = editDoc(st, p.file, c.src.doc, fn)
		} else {
			out, err = editInline(st, p, c.src.doc, fn)
		}
		if err != nil {
			return nil, nil, err
		}
		return map[string][]byte{e.file: out}, nil, nil
	case PlacementNewPatch:
		return pl.newPatch(e, st)
	}
	return nil, nil, fmt.Errorf("unknown placement %q", e.placement)
}

// editDoc edits document doc of a file with fn and renders the file
// faithfully.
func editDoc(st *view, file string, doc int, fn func(*yaml.RNode) error) ([]byte, error) {
	data, err := st.read(file)
	if err != nil {
		return nil, err
	}
	f, err := yamledit.Parse(file, data, yamledit.Options{MaxBytes: maxFileBytes})
	if err != nil {
		return nil, err
	}
	if f.NotEditable != nil {
		return nil, f.NotEditable
	}
	if doc >= len(f.Docs) || f.Docs[doc].Node == nil {
		return nil, fmt.Errorf("%s: no document %d", file, doc)
	}
	n := f.Docs[doc].Node.Copy()
	if err := fn(n); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if err := f.SetDoc(doc, n); err != nil {
		return nil, err
	}
	return f.Render()
}

// patchScalar finds the scalar holding an inline patch in a kustomization
// document.
func patchScalar(doc *yaml.Node, p *patchDecl) (*yaml.Node, error) {
	items := seqAt(doc, p.field)
	if p.index >= len(items) {
		return nil, fmt.Errorf("%s: %s[%d] is gone", p.k.file, p.field, p.index)
	}
	n := items[p.index]
	if p.field != "patchesStrategicMerge" {
		n = mapGet(n, "patch")
	}
	if n == nil || n.Kind != yaml.ScalarNode {
		return nil, fmt.Errorf("%s: %s[%d] holds no inline patch", p.k.file, p.field, p.index)
	}
	return n, nil
}

// editInline edits document doc of an inline patch: the patch text is
// edited faithfully as YAML of its own, then put back into the
// kustomization's scalar, whose style is kept.
func editInline(st *view, p *patchDecl, doc int, fn func(*yaml.RNode) error) ([]byte, error) {
	var inner error
	out, err := editDoc(st, p.k.file, 0, func(kd *yaml.RNode) error {
		s, err := patchScalar(kd.YNode(), p)
		if err != nil {
			return err
		}
		name := p.where()
		pf, err := yamledit.Parse(name, []byte(s.Value), yamledit.Options{MaxBytes: maxFileBytes})
		if err != nil {
			return err
		}
		if pf.NotEditable != nil {
			return pf.NotEditable
		}
		if doc >= len(pf.Docs) || pf.Docs[doc].Node == nil {
			return fmt.Errorf("%s: no document %d", name, doc)
		}
		n := pf.Docs[doc].Node.Copy()
		if err := fn(n); err != nil {
			inner = err
			return err
		}
		if err := pf.SetDoc(doc, n); err != nil {
			return err
		}
		text, err := pf.Render()
		if err != nil {
			return err
		}
		s.Value = string(text)
		return nil
	})
	if inner != nil {
		return nil, inner
	}
	return out, err
}

// mergeSMP merges a strategic-merge patch (YAML) into doc with kyaml's
// merge2, which keeps doc's comments and merges lists by their keys.
func mergeSMP(doc *yaml.RNode, smp []byte) error {
	p, err := yaml.Parse(string(smp))
	if err != nil {
		return err
	}
	_, err = merge2.Merge(p, doc, yaml.MergeOptions{ListIncreaseDirection: yaml.MergeOptionsListAppend})
	return err
}

// editOp changes an RFC 6902 operation so that it sets what the fix sets:
// each of the fix's operations below the operation's path is applied to
// its value. at is the operation's path, rendered the object as rendered.
func editOp(op *yaml.Node, at segPath, fx *patch.Fix, rendered *yaml.Node) error {
	kind := scalarAt(op, "op")
	if kind != "add" && kind != "replace" {
		return fmt.Errorf("a %q operation sets the value: kmend edits only add and replace operations", kind)
	}
	value := mapGet(op, "value")
	if value == nil {
		return fmt.Errorf("the %s operation has no value", kind)
	}
	var fixOps []catalog.Op
	var paths []segPath
	for _, fo := range fx.JSONPatch {
		vn, err := toNode(fo.Value)
		if err != nil {
			return err
		}
		fixOps = append(fixOps, fo)
		paths = append(paths, semantic(rendered, pointerTokens(fo.Path), vn))
	}
	for i, fo := range fixOps {
		fp := paths[i]
		if !fp.hasPrefix(at) {
			if at.hasPrefix(fp) && isEmptyObject(fo.Value) {
				continue // a parent the operation's path already has
			}
			return fmt.Errorf("the fix also sets %s, outside what the operation at %s sets", fp, at)
		}
		rel := fp[len(at):]
		switch fo.Op {
		case "add", "replace":
			nv, err := toNode(fo.Value)
			if err != nil {
				return err
			}
			if err := setAt(value, rel, nv); err != nil {
				return err
			}
		case "remove":
			if err := removeAt(value, rel); err != nil {
				return err
			}
		default:
			return fmt.Errorf("the fix uses a %q operation", fo.Op)
		}
	}
	return nil
}

func isEmptyObject(v any) bool {
	m, ok := v.(map[string]any)
	return ok && len(m) == 0
}

// toNode turns a JSON value into a YAML node.
func toNode(v any) (*yaml.Node, error) {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return nil, err
	}
	return &n, nil
}

// setAt sets the value at rel below n to v, adding missing mappings and
// list elements named by their merge key. A scalar keeps its comments.
func setAt(n *yaml.Node, rel segPath, v *yaml.Node) error {
	cur := n
	for _, s := range rel {
		next := step(cur, s)
		if next == nil {
			switch {
			case s.isKey() && (cur.Kind == yaml.MappingNode || isNull(cur)):
				if isNull(cur) {
					*cur = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
				}
				next = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
				cur.Content = append(cur.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s.key}, next)
			case s.named() && cur.Kind == yaml.SequenceNode:
				next = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
					{Kind: yaml.ScalarNode, Tag: "!!str", Value: s.mkey},
					{Kind: yaml.ScalarNode, Tag: "!!str", Value: s.mval},
				}}
				cur.Content = append(cur.Content, next)
			default:
				return fmt.Errorf("cannot reach %s in the operation's value", rel)
			}
		}
		cur = next
	}
	replaceNode(cur, v)
	return nil
}

// replaceNode gives old the content of v, keeping old's comments and, for
// a scalar whose new value allows it, its quoting.
func replaceNode(old, v *yaml.Node) {
	head, line, foot := old.HeadComment, old.LineComment, old.FootComment
	style := old.Style
	wasScalar := old.Kind == yaml.ScalarNode
	*old = *v
	old.HeadComment, old.LineComment, old.FootComment = head, line, foot
	if wasScalar && v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
		old.Style = style &^ (yaml.LiteralStyle | yaml.FoldedStyle)
	}
}

func removeAt(n *yaml.Node, rel segPath) error {
	if len(rel) == 0 {
		return fmt.Errorf("the fix removes the whole value of the operation")
	}
	parent := find(n, rel[:len(rel)-1])
	if parent == nil {
		return nil
	}
	last := rel[len(rel)-1]
	switch {
	case last.isKey() && parent.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(parent.Content); i += 2 {
			if parent.Content[i].Value == last.key {
				parent.Content = append(parent.Content[:i], parent.Content[i+2:]...)
				return nil
			}
		}
	case parent.Kind == yaml.SequenceNode:
		el := step(parent, last)
		for i, c := range parent.Content {
			if c == el {
				parent.Content = append(parent.Content[:i], parent.Content[i+1:]...)
				return nil
			}
		}
	}
	return nil
}

// newPatch writes the fix as a strategic-merge patch file in the overlay
// and lists it in the overlay's kustomization; when kmend's patch file for
// the object is already there (an earlier fix, an earlier run), the fix is
// merged into it.
func (pl *planner) newPatch(e *edit, st *view) (map[string][]byte, []string, error) {
	c := e.first()
	org := c.info.origin.org
	k := pl.g.kusts[e.root]
	if k == nil || k.file == "" {
		return nil, nil, fmt.Errorf("%s has no kustomization file", orDot(e.root))
	}
	kdata, err := st.read(k.file)
	if err != nil {
		return nil, nil, err
	}
	kf, err := yamledit.Parse(k.file, kdata, yamledit.Options{MaxBytes: maxFileBytes})
	if err != nil {
		return nil, nil, err
	}
	if kf.NotEditable != nil {
		return nil, nil, kf.NotEditable
	}
	if len(kf.Docs) == 0 || kf.Docs[0].Node == nil || kf.Docs[0].Node.YNode().Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("%s: not a kustomization", k.file)
	}
	listed := lists(kf.Docs[0].Node.YNode(), k.dir, e.file)
	existing, err := st.read(e.file)
	switch {
	case err == nil:
		if !listed {
			return nil, nil, fmt.Errorf("%s exists and is not a patch of %s: kmend does not overwrite it", e.file, k.file)
		}
		out, err := editDoc(st, e.file, 0, func(doc *yaml.RNode) error {
			n := doc.YNode()
			meta := mapGet(n, "metadata")
			if scalarAt(n, "kind") != org.kind || scalarAt(meta, "name") != org.name {
				return fmt.Errorf("it patches %s %s, not %s %s", scalarAt(n, "kind"), scalarAt(meta, "name"), org.kind, org.name)
			}
			smp, err := widen(c.fx.StrategicMerge, c.info.obj.Node.YNode())
			if err != nil {
				return err
			}
			return mergeSMP(doc, smp)
		})
		if err != nil {
			return nil, nil, err
		}
		if bytes.Equal(out, existing) {
			return nil, nil, fmt.Errorf("%s already holds the fix", e.file)
		}
		return map[string][]byte{e.file: out}, nil, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, nil, err
	}
	content, err := pl.patchFile(org, c)
	if err != nil {
		return nil, nil, err
	}
	if kf.CRLF {
		content = bytes.ReplaceAll(content, []byte("\n"), []byte("\r\n"))
	}
	doc := kf.Docs[0].Node.Copy()
	if err := listPatch(doc.YNode(), path.Base(e.file)); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", k.file, err)
	}
	if err := kf.SetDoc(0, doc); err != nil {
		return nil, nil, err
	}
	kout, err := kf.Render()
	if err != nil {
		return nil, nil, err
	}
	return map[string][]byte{e.file: content, k.file: kout}, []string{k.file}, nil
}

// lists reports whether the kustomization in dir lists file as a patch.
func lists(doc *yaml.Node, dir, file string) bool {
	for _, it := range seqAt(doc, "patches") {
		if p := scalarAt(it, "path"); p != "" {
			if j, err := join(dir, p); err == nil && j == file {
				return true
			}
		}
	}
	for _, it := range seqAt(doc, "patchesStrategicMerge") {
		if it.Kind == yaml.ScalarNode {
			if j, err := join(dir, it.Value); err == nil && j == file {
				return true
			}
		}
	}
	return false
}

// listPatch appends "- path: name" to the kustomization's patches,
// adding the list when there is none.
func listPatch(doc *yaml.Node, name string) error {
	entry := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "path"},
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: name},
	}}
	v := mapGet(doc, "patches")
	switch {
	case v == nil:
		doc.Content = append(doc.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "patches"},
			&yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{entry}})
	case isNull(v):
		*v = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{entry}}
	case v.Kind == yaml.SequenceNode:
		v.Content = append(v.Content, entry)
	default:
		return fmt.Errorf("patches is not a list")
	}
	return nil
}

// patchFile renders the new patch file: the object as its own file names
// it (kustomize matches a patch by the name the object had before any
// prefix, suffix or namespace), with the fix merged in, in the sequence
// style of the object's file.
func (pl *planner) patchFile(org orgID, c *cand) ([]byte, error) {
	meta := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		str("name"), str(org.name),
	}}
	if org.namespace != "" {
		meta.Content = append(meta.Content, str("namespace"), str(org.namespace))
	}
	doc := yaml.NewRNode(&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		str("apiVersion"), str(org.apiVersion),
		str("kind"), str(org.kind),
		str("metadata"), meta,
	}})
	smp, err := widen(c.fx.StrategicMerge, c.info.obj.Node.YNode())
	if err != nil {
		return nil, err
	}
	if err := mergeSMP(doc, smp); err != nil {
		return nil, err
	}
	style := yaml.WideSequenceStyle
	if data, err := pl.before.read(c.info.origin.file); err == nil {
		style = yaml.SequenceIndentStyle(yaml.DeriveSeqIndentStyle(string(data)))
	}
	var buf bytes.Buffer
	buf.WriteString(newPatchHeader)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if style != yaml.CompactSequenceStyle {
		enc.DefaultSeqIndent()
	}
	if err := enc.Encode(doc.YNode()); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// firstChange returns the first line where after differs from before.
func firstChange(before, after []byte) int {
	a, b := strings.Split(string(before), "\n"), strings.Split(string(after), "\n")
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i + 1
		}
	}
	return min(len(a), len(b))
}

// stubComment marks the list items a patch names only to keep their order.
const stubComment = "kept in place: kustomize moves patched items first"

// widen returns the strategic-merge patch smp, for a patch kustomize will
// apply to the rendered object, with every keyed list it touches listed
// from its first item up to the last one it changes, in the rendered
// order. kustomize's strategic merge moves the items a patch names to the
// front of their list: a patch that names only the second container would
// reorder the containers (and the init containers, whose order matters).
// Naming the items before it, in order, keeps the order.
func widen(smp []byte, rendered *yaml.Node) ([]byte, error) {
	p, err := yaml.Parse(string(smp))
	if err != nil {
		return nil, err
	}
	widenNode(p.YNode(), rendered, "")
	s, err := p.String()
	return []byte(s), err
}

func widenNode(p, r *yaml.Node, field string) {
	if p == nil || r == nil {
		return
	}
	switch {
	case p.Kind == yaml.MappingNode && r.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(p.Content); i += 2 {
			k := p.Content[i].Value
			widenNode(p.Content[i+1], mapGet(r, k), k)
		}
	case p.Kind == yaml.SequenceNode && r.Kind == yaml.SequenceNode:
		last := -1
		byKey := map[string]*yaml.Node{}
		for _, el := range p.Content {
			k, v, ok := elementKey(field, el)
			if !ok {
				return // not a keyed list: strategic merge replaces it whole
			}
			pos := -1
			for j, rel := range r.Content {
				if rk, rv, ok := elementKey(field, rel); ok && rk == k && rv == v {
					pos = j
					break
				}
			}
			if pos < 0 {
				return // an item the object does not have yet: leave the list
			}
			widenNode(el, r.Content[pos], "")
			byKey[v] = el
			last = max(last, pos)
		}
		var out []*yaml.Node
		for j := 0; j <= last; j++ {
			k, v, ok := elementKey(field, r.Content[j])
			if !ok {
				return
			}
			if el := byKey[v]; el != nil {
				out = append(out, el)
				continue
			}
			out = append(out, &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
				str(k), {Kind: yaml.ScalarNode, Tag: "!!str", Value: v, LineComment: "# " + stubComment},
			}})
		}
		p.Content = out
	}
}
