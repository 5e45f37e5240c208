package helm

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/yamledit"
)

// ValuesSource is one layer of values. Layers are given in Helm's
// precedence order: the chart's values.yaml first (implicitly), then each
// source, later ones winning, as helm template --values a --values b.
type ValuesSource struct {
	// File is the YAML file holding the values, relative to the repository
	// (forward slashes). Empty for literal Values.
	File string
	// Document is the index of the YAML document of File holding them.
	Document int
	// Path leads from the document's root to the values: empty for a
	// values file, [spec values] for a Flux HelmRelease, [spec source helm
	// valuesObject] for an Argo CD Application (list indexes as numbers:
	// [spec sources 0 helm valuesObject]). A missing node holds no values
	// and is created when a key is set there. A node that is a string
	// (Argo CD's helm.values) is parsed as YAML and edited as text.
	Path []string
	// Values are literal values (--set, Argo CD helm.parameters): read
	// only, never edited.
	Values map[string]any
	// Name says what a literal layer is, for messages ("parameters").
	Name string
}

// ValuesFile is a values file of the repository.
func ValuesFile(file string) ValuesSource { return ValuesSource{File: file} }

// InlineValues are values held at path inside document doc of file (a
// HelmRelease's spec.values, an Application's helm.valuesObject).
func InlineValues(file string, doc int, path ...string) ValuesSource {
	return ValuesSource{File: file, Document: doc, Path: path}
}

// Literal values, read only.
func Literal(name string, values map[string]any) ValuesSource {
	return ValuesSource{Values: values, Name: name}
}

func (s ValuesSource) editable() bool { return s.File != "" }

// String names the source: "values-prod.yaml", "flux/web.yaml#1
// spec.values", or the name of literal values.
func (s ValuesSource) String() string {
	if s.File == "" {
		return cmp(s.Name, "literal values")
	}
	out := s.File
	if s.Document != 0 || len(s.Path) > 0 {
		out += "#" + strconv.Itoa(s.Document)
	}
	if len(s.Path) > 0 {
		out += " " + strings.Join(s.Path, ".")
	}
	return out
}

// valuesFile is a file holding one or more layers, parsed once; docs are
// the working copies of its documents, edited by accepted fixes.
type valuesFile struct {
	path string
	f    *yamledit.File
	docs map[int]*yaml.RNode
	// added is a document made for a file that had none (only comments):
	// it is appended to the file's text.
	added *yaml.RNode
}

func (vf *valuesFile) doc(i int) (*yaml.RNode, error) {
	if n, ok := vf.docs[i]; ok {
		return n, nil
	}
	if i == 0 && vf.added != nil {
		return vf.added, nil
	}
	if len(vf.f.Docs) == 0 && i == 0 {
		return nil, nil // an empty file: no values yet
	}
	if i < 0 || i >= len(vf.f.Docs) {
		return nil, fmt.Errorf("%s: no document %d (the file has %d)", vf.path, i, len(vf.f.Docs))
	}
	if vf.f.Docs[i].Node == nil {
		return nil, nil
	}
	n := vf.f.Docs[i].Node.Copy()
	vf.docs[i] = n
	return n, nil
}

// set replaces document i's working copy. A file without a document of
// content (empty, or only comments) gets n appended.
func (vf *valuesFile) set(i int, n *yaml.RNode) {
	if i == 0 && (len(vf.f.Docs) == 0 || vf.f.Docs[0].Node == nil) {
		vf.added = n
		return
	}
	vf.docs[i] = n
}

// layer is one ValuesSource as loaded.
type layer struct {
	src ValuesSource
	vf  *valuesFile // nil for literal values
	// inner holds the parsed text of a string of YAML (Argo CD helm.values)
	// and its working copy.
	inner     *yamledit.File
	innerNode *yaml.RNode
	vals      map[string]any
	// defaults marks the chart's own values.yaml, edited only when no
	// other layer is editable. Its values are the chart's: Helm reads them
	// itself, so they are not merged again.
	defaults bool
	// edited is set once a fix changed the layer.
	edited bool
}

// layers are the values of one render, in precedence order.
type layers struct {
	repo  *repo
	files map[string]*valuesFile
	list  []*layer
	// defaults is the chart's values.yaml; nil when the chart has none.
	defaults *layer
}

func loadLayers(rp *repo, s *session, sources []ValuesSource) (*layers, error) {
	ls := &layers{repo: rp, files: map[string]*valuesFile{}}
	for _, src := range sources {
		l, err := ls.load(src)
		if err != nil {
			return nil, err
		}
		ls.list = append(ls.list, l)
	}
	if s.defaults != "" {
		l, err := ls.load(ValuesFile(s.defaults))
		if err != nil {
			return nil, err
		}
		l.defaults = true
		ls.defaults = l
	}
	return ls, nil
}

func (ls *layers) file(p string) (*valuesFile, error) {
	rel, err := ls.repo.rel(p)
	if err != nil {
		return nil, fmt.Errorf("values file %s: %w", p, err)
	}
	if vf, ok := ls.files[rel]; ok {
		return vf, nil
	}
	data, err := ls.repo.readFile(rel)
	if err != nil {
		return nil, fmt.Errorf("values file %w", err)
	}
	f, err := yamledit.Parse(rel, data, yamledit.Options{})
	if err != nil {
		return nil, fmt.Errorf("values file %w", err)
	}
	vf := &valuesFile{path: rel, f: f, docs: map[int]*yaml.RNode{}}
	ls.files[rel] = vf
	return vf, nil
}

func (ls *layers) load(src ValuesSource) (*layer, error) {
	l := &layer{src: src}
	if !src.editable() {
		l.vals = deepCopy(src.Values)
		return l, nil
	}
	vf, err := ls.file(src.File)
	if err != nil {
		return nil, err
	}
	l.vf = vf
	l.src.File = vf.path
	if err := l.decode(); err != nil {
		return nil, err
	}
	return l, nil
}

// node returns the layer's values node in the working copy: a mapping,
// nil when absent or null.
func (l *layer) node() (*yaml.RNode, error) {
	if l.innerNode != nil {
		return mappingOrNil(l.innerNode, l.src)
	}
	doc, err := l.vf.doc(l.src.Document)
	if err != nil || doc == nil {
		return nil, err
	}
	n, err := lookupPath(doc, l.src.Path)
	if err != nil || n == nil {
		return nil, err
	}
	y := n.YNode()
	if y.Kind == yaml.ScalarNode && y.Tag != "!!null" && len(l.src.Path) > 0 {
		// A string of YAML (Argo CD helm.values): parse it once.
		if l.inner == nil {
			f, err := yamledit.Parse(l.src.String(), []byte(y.Value), yamledit.Options{})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", l.src, err)
			}
			if f.NotEditable != nil {
				return nil, fmt.Errorf("%s: %w", l.src, f.NotEditable)
			}
			l.inner = f
			if len(f.Docs) > 1 {
				return nil, fmt.Errorf("%s: %d YAML documents in one string of values", l.src, len(f.Docs))
			}
			if len(f.Docs) == 1 && f.Docs[0].Node != nil {
				l.innerNode = f.Docs[0].Node.Copy()
			}
		}
		if l.innerNode == nil {
			return nil, nil
		}
		return mappingOrNil(l.innerNode, l.src)
	}
	return mappingOrNil(n, l.src)
}

func mappingOrNil(n *yaml.RNode, src ValuesSource) (*yaml.RNode, error) {
	switch y := n.YNode(); {
	case y.Kind == yaml.MappingNode:
		return n, nil
	case y.Kind == yaml.ScalarNode && y.Tag == "!!null":
		return nil, nil
	default:
		return nil, fmt.Errorf("%s: %w", src, ErrNotValues)
	}
}

// embedded reports whether the layer is a string of YAML.
func (l *layer) embedded() bool { return l.inner != nil }

// decode reads the layer's values from its working copy, as Helm reads a
// values file (sigs.k8s.io/yaml: numbers as float64).
func (l *layer) decode() error {
	if l.vf == nil {
		return nil
	}
	n, err := l.node()
	if err != nil {
		return err
	}
	vals, err := decodeValues(n)
	if err != nil {
		return fmt.Errorf("%s: %w", l.src, err)
	}
	l.vals = vals
	return nil
}

func decodeValues(n *yaml.RNode) (map[string]any, error) {
	if n == nil {
		return map[string]any{}, nil
	}
	text, err := n.String()
	if err != nil {
		return nil, err
	}
	v, err := common.ReadValues([]byte(text))
	if err != nil {
		return nil, err
	}
	return v, nil
}

// merged returns the user-supplied values: every layer but the chart's
// defaults, merged in order.
func (ls *layers) merged() map[string]any {
	out := map[string]any{}
	for _, l := range ls.list {
		out = mergeValues(out, l.vals)
	}
	return out
}

// chartValues returns the chart's values when a fix edited its
// values.yaml (they then replace the file's), else nil.
func (ls *layers) chartValues() map[string]any {
	if ls.defaults != nil && ls.defaults.edited {
		return ls.defaults.vals
	}
	return nil
}

// lookupPath walks keys (and, in sequences, indexes) from n; nil when a
// step is missing.
func lookupPath(n *yaml.RNode, p []string) (*yaml.RNode, error) {
	cur := n.YNode()
	for _, k := range p {
		switch cur.Kind {
		case yaml.MappingNode:
			v := mapValue(cur, k)
			if v == nil {
				return nil, nil
			}
			cur = v
		case yaml.SequenceNode:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(cur.Content) {
				return nil, nil
			}
			cur = cur.Content[i]
		case yaml.ScalarNode:
			if cur.Tag == "!!null" {
				return nil, nil
			}
			return nil, fmt.Errorf("%s: %q is a scalar, not a mapping", strings.Join(p, "."), k)
		default:
			return nil, fmt.Errorf("%s: unexpected node at %q", strings.Join(p, "."), k)
		}
	}
	return yaml.NewRNode(cur), nil
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func mapKey(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return nil
}

// setKey sets key (a path of mapping keys) below root to a copy of val,
// creating missing mappings and turning null ones into mappings. An
// existing value keeps its comments, and a quoted string its quotes. It
// reports whether anything changed.
func setKey(root *yaml.Node, key []string, val *yaml.Node) (bool, error) {
	cur := root
	for i, k := range key {
		if cur.Kind == yaml.ScalarNode && cur.Tag == "!!null" {
			toMapping(cur)
		}
		if cur.Kind != yaml.MappingNode {
			return false, fmt.Errorf("%s is not a mapping", strings.Join(key[:i], "."))
		}
		last := i == len(key)-1
		v := mapValue(cur, k)
		if v == nil {
			kn := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}
			var nv *yaml.Node
			if last {
				nv = cleanCopy(val)
			} else {
				nv = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			}
			if cur.Style&yaml.FlowStyle != 0 && len(cur.Content) == 0 {
				cur.Style &^= yaml.FlowStyle
			}
			cur.Content = append(cur.Content, kn, nv)
			cur = nv
			continue
		}
		if last {
			if sameValue(v, val) {
				return false, nil
			}
			replaceValue(v, val)
			return true, nil
		}
		cur = v
	}
	return true, nil
}

// setPath is setKey below the node at p (created when missing), the
// values node of a layer.
func setPath(doc *yaml.Node, p, key []string, val *yaml.Node) (bool, error) {
	cur := doc
	for i, k := range p {
		if cur.Kind == yaml.SequenceNode {
			n, err := strconv.Atoi(k)
			if err != nil || n < 0 || n >= len(cur.Content) {
				return false, fmt.Errorf("%s: no element %s", strings.Join(p[:i], "."), k)
			}
			cur = cur.Content[n]
			continue
		}
		if cur.Kind == yaml.ScalarNode && cur.Tag == "!!null" {
			toMapping(cur)
		}
		if cur.Kind != yaml.MappingNode {
			return false, fmt.Errorf("%s is not a mapping", strings.Join(p[:i], "."))
		}
		v := mapValue(cur, k)
		if v == nil {
			v = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			if cur.Style&yaml.FlowStyle != 0 && len(cur.Content) == 0 {
				cur.Style &^= yaml.FlowStyle
			}
			cur.Content = append(cur.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, v)
		}
		cur = v
	}
	return setKey(cur, key, val)
}

func toMapping(n *yaml.Node) {
	*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", HeadComment: n.HeadComment, LineComment: n.LineComment, FootComment: n.FootComment}
}

// replaceValue gives v the value of val, keeping v's comments and, for a
// string replacing a string, its quoting style.
func replaceValue(v, val *yaml.Node) {
	c := cleanCopy(val)
	c.HeadComment, c.LineComment, c.FootComment = v.HeadComment, v.LineComment, v.FootComment
	if v.Kind == yaml.ScalarNode && c.Kind == yaml.ScalarNode && v.Tag == "!!str" && c.Tag == "!!str" &&
		v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		c.Style = v.Style
	}
	if v.Kind == c.Kind && v.Kind == yaml.SequenceNode && v.Style&yaml.FlowStyle != 0 {
		c.Style |= yaml.FlowStyle
	}
	*v = *c
}

// cleanCopy deep-copies a value node without positions or comments.
func cleanCopy(n *yaml.Node) *yaml.Node {
	c := &yaml.Node{Kind: n.Kind, Style: n.Style, Tag: n.Tag, Value: n.Value}
	for _, ch := range n.Content {
		c.Content = append(c.Content, cleanCopy(ch))
	}
	return c
}

// sameValue compares two values as data.
func sameValue(a, b *yaml.Node) bool {
	x, err1 := decodeNodeJSON(a)
	y, err2 := decodeNodeJSON(b)
	return err1 == nil && err2 == nil && len(diffValues(x, y)) == 0
}

// keyString writes a values key as a person types it for --set:
// image.pullPolicy, with keys holding dots quoted.
func keyString(key []string) string {
	parts := slices.Clone(key)
	for i, k := range parts {
		if strings.ContainsAny(k, `.[]"`) || k == "" {
			parts[i] = strconv.Quote(k)
		}
	}
	return strings.Join(parts, ".")
}
