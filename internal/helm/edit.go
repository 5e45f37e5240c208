package helm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
	syaml "sigs.k8s.io/yaml"

	"github.com/kmend/kmend/internal/patch"
	"github.com/kmend/kmend/internal/yamledit"
)

// finish writes the accepted edits into the files' bytes (faithfully:
// only edited nodes change), then verifies them: the files are read back,
// the chart rendered and checked again, every fixed finding must be gone,
// nothing may fail that did not, and the render must be the one the
// trials produced. When that fails, no file is changed and every fix
// becomes manual.
func (p *planner) finish() error {
	p.res.After = p.cur.objects
	if len(p.res.Fixes) == 0 {
		return nil
	}
	edits, err := p.ls.render()
	if err == nil {
		err = p.verify(edits)
	}
	if err != nil {
		for _, f := range p.res.Fixes {
			for _, fd := range f.Findings {
				m := &Manual{Finding: fd, Patch: f.Patch, Reason: "the values could not be edited faithfully: " + err.Error(), Tried: f.Rejected}
				if f.Patch != nil {
					if k, kerr := kustomizePatch(objectOf(p.base, fd.Fingerprint()), f.Patch); kerr == nil {
						m.Kustomize = k
					}
				}
				p.res.Manual = append(p.res.Manual, m)
			}
		}
		p.res.Fixes = nil
		p.res.After = p.base.objects
		return nil
	}
	p.res.Files = edits
	return nil
}

func objectOf(sn *snapshot, fp string) *Object {
	if f := sn.results[fp]; f != nil {
		return f.obj
	}
	return nil
}

// render computes the new content of every file a fix edited.
func (ls *layers) render() ([]*FileEdit, error) {
	all := slices.Clone(ls.list)
	if ls.defaults != nil {
		all = append(all, ls.defaults)
	}
	touched := map[*valuesFile]bool{}
	for _, l := range all {
		if !l.edited || l.vf == nil {
			continue
		}
		touched[l.vf] = true
		if !l.embedded() {
			continue
		}
		text, err := renderText(l.inner, l.innerNode)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.src, err)
		}
		doc, err := l.vf.doc(l.src.Document)
		if err != nil || doc == nil {
			return nil, fmt.Errorf("%s: the document holding the values is gone", l.src)
		}
		n, err := lookupPath(doc, l.src.Path)
		if err != nil || n == nil {
			return nil, fmt.Errorf("%s: the values string is gone", l.src)
		}
		n.YNode().Value = string(text)
	}
	var out []*FileEdit
	for vf := range touched {
		after, err := renderFile(vf)
		if err != nil {
			return nil, err
		}
		fe := &FileEdit{Path: vf.path, Before: vf.f.Data}
		if !bytes.Equal(after, vf.f.Data) {
			fe.After = after
		}
		out = append(out, fe)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// renderFile splices a values file's edited documents into its text.
func renderFile(vf *valuesFile) ([]byte, error) {
	if vf.added != nil {
		return appendDoc(vf.f, vf.added)
	}
	for i, d := range vf.docs {
		if err := vf.f.SetDoc(i, d); err != nil {
			return nil, err
		}
	}
	return vf.f.Render()
}

// renderText is renderFile for a string of YAML.
func renderText(f *yamledit.File, n *yaml.RNode) ([]byte, error) {
	if n == nil {
		return f.Data, nil
	}
	if len(f.Docs) == 0 || f.Docs[0].Node == nil {
		return appendDoc(f, n)
	}
	if err := f.SetDoc(0, n); err != nil {
		return nil, err
	}
	return f.Render()
}

// appendDoc adds a mapping to a file that had no values (empty, or only
// comments): its text is kept and the mapping written after it.
func appendDoc(f *yamledit.File, n *yaml.RNode) ([]byte, error) {
	text, err := n.String()
	if err != nil {
		return nil, err
	}
	if f.CRLF {
		text = strings.ReplaceAll(text, "\n", "\r\n")
	}
	out := slices.Clone(f.Data)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		if f.CRLF {
			out = append(out, '\r')
		}
		out = append(out, '\n')
	}
	return append(out, text...), nil
}

// verify reads the edited files back and checks they give what the
// trials gave; it also finds each fix's line in its file.
func (p *planner) verify(edits []*FileEdit) error {
	over := map[string][]byte{}
	for _, e := range edits {
		if e.Changed() {
			over[e.Path] = e.After
		}
	}
	rp := p.s.repo.withOverrides(over)
	s, err := p.s.reopen(rp)
	if err != nil {
		return err
	}
	var sources []ValuesSource
	for _, l := range p.ls.list {
		sources = append(sources, l.src)
	}
	ls, err := loadLayers(rp, s, sources)
	if err != nil {
		return err
	}
	q := &planner{s: s, ls: ls, controls: p.controls, opts: p.opts}
	p.res.Renders++
	final, err := q.snapshot(ls.merged(), nil)
	if err != nil {
		return err
	}
	if d := compareRenders(p.cur, final, p.volatile); !d.empty() {
		return errors.New("the edited files do not render as the edits did")
	}
	for _, f := range p.res.Fixes {
		for _, fd := range f.Findings {
			if _, still := final.results[fd.Fingerprint()]; still {
				return fmt.Errorf("after editing, %s still fails on %s", fd.ControlID, fd.Object)
			}
		}
	}
	for _, fp := range final.order {
		if _, was := p.base.results[fp]; !was {
			f := final.results[fp]
			return fmt.Errorf("after editing, %s fails on %s", f.r.Control.ID, f.obj.Ref)
		}
	}
	for _, f := range p.res.Fixes {
		f.Line = keyLine(ls, f.Source, f.Key)
	}
	return nil
}

// keyLine finds the line of a key in a layer as read from the new files.
func keyLine(ls *layers, src ValuesSource, key []string) int {
	var l *layer
	for _, x := range append(slices.Clone(ls.list), ls.defaults) {
		if x != nil && x.vf != nil && x.src.File == src.File && x.src.Document == src.Document && slices.Equal(x.src.Path, src.Path) {
			l = x
			break
		}
	}
	if l == nil {
		return 0
	}
	line := func(root *yaml.Node, p []string) int {
		cur := root
		for i, k := range p {
			if cur.Kind == yaml.SequenceNode {
				var n int
				if _, err := fmt.Sscan(k, &n); err != nil || n < 0 || n >= len(cur.Content) {
					return 0
				}
				cur = cur.Content[n]
				continue
			}
			if cur.Kind != yaml.MappingNode {
				return 0
			}
			if i == len(p)-1 {
				if kn := mapKey(cur, k); kn != nil {
					return kn.Line
				}
				return 0
			}
			if cur = mapValue(cur, k); cur == nil {
				return 0
			}
		}
		return cur.Line
	}
	if len(l.vf.f.Docs) <= src.Document || l.vf.f.Docs[src.Document].Node == nil {
		return 0
	}
	root := l.vf.f.Docs[src.Document].Node.YNode()
	if l.embedded() && l.inner != nil && len(l.inner.Docs) > 0 && l.inner.Docs[0].Node != nil {
		outer := line(root, src.Path)
		inner := line(l.inner.Docs[0].Node.YNode(), key)
		sn, _ := lookupPath(yaml.NewRNode(root), src.Path)
		if sn != nil && sn.YNode().Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 && inner > 0 {
			return outer + inner
		}
		return outer
	}
	return line(root, append(slices.Clone(src.Path), key...))
}

// Write writes the changed files, atomically, each only when its content
// changes. It returns the paths written (relative to the repository).
func (r *Result) Write() ([]string, error) {
	var written []string
	var errs []error
	rp, err := openRepo(r.Repo)
	if err != nil {
		return nil, err
	}
	defer rp.close()
	for _, f := range r.Files {
		if !f.Changed() {
			continue
		}
		// The file was read through the repository's root: check again
		// that it still resolves inside it before writing.
		if _, err := rp.root.Stat(filepath.FromSlash(f.Path)); err != nil {
			errs = append(errs, rootError(f.Path, err))
			continue
		}
		changed, err := yamledit.WriteFile(rp.osPath(f.Path), f.After)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if changed {
			written = append(written, f.Path)
		}
	}
	return written, errors.Join(errs...)
}

// kustomizePatch writes a kustomize patches entry for a fix of a rendered
// object: a target and the strategic-merge patch with the object's
// apiVersion, kind and name, as kustomize wants them.
func kustomizePatch(obj *Object, fx *patch.Fix) ([]byte, error) {
	if obj == nil {
		return nil, errors.New("no object")
	}
	var body map[string]any
	if err := json.Unmarshal(fx.StrategicMergeJSON, &body); err != nil {
		return nil, err
	}
	meta := map[string]any{"name": obj.Ref.Name}
	if obj.Ref.Namespace != "" {
		meta["namespace"] = obj.Ref.Namespace
	}
	body["apiVersion"] = obj.Ref.APIVersion
	body["kind"] = obj.Ref.Kind
	body["metadata"] = meta
	text, err := syaml.Marshal(body)
	if err != nil {
		return nil, err
	}
	group, version := "", obj.Ref.APIVersion
	if g, v, ok := strings.Cut(obj.Ref.APIVersion, "/"); ok {
		group, version = g, v
	}
	target := &yaml.Node{Kind: yaml.MappingNode}
	addField := func(m *yaml.Node, k string, v *yaml.Node) {
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, v)
	}
	str := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }
	if group != "" {
		addField(target, "group", str(group))
	}
	addField(target, "version", str(version))
	addField(target, "kind", str(obj.Ref.Kind))
	addField(target, "name", str(obj.Ref.Name))
	if obj.Ref.Namespace != "" {
		addField(target, "namespace", str(obj.Ref.Namespace))
	}
	entry := &yaml.Node{Kind: yaml.MappingNode}
	addField(entry, "target", target)
	addField(entry, "patch", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.LiteralStyle, Value: string(text)})
	list := &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{entry}}
	s, err := yaml.NewRNode(list).String()
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// decodeNodeJSON decodes a YAML node into plain JSON values.
func decodeNodeJSON(n *yaml.Node) (any, error) {
	return nodeJSON(yaml.NewRNode(n))
}

// toJSONValue normalises a values-tree value to plain JSON values.
func toJSONValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	return out, json.Unmarshal(b, &out)
}
