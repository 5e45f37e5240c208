package overlay

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/yamledit"
)

// kust is what kmend reads of one kustomization file: enough to know which
// kustomizations and files it builds on and which patches it applies, in
// kustomize's order.
type kust struct {
	dir  string // repository-relative directory ("." for the root)
	file string // its kustomization file
	f    *yamledit.File

	// component is true for a kustomize Component (kind: Component):
	// it is rendered only inside the kustomizations that use it.
	component bool

	prefix, suffix, namespace string
	// dirs are the kustomizations it builds on (resources and components
	// that are directories), files the resource files it lists.
	dirs       []string
	components []string
	files      []string
	// patches in the order kustomize applies them: patchesStrategicMerge,
	// patches, then (after the namespace and name transformers)
	// patchesJson6902.
	patches []*patchDecl
	err     error
}

// patchDecl is one patch a kustomization applies.
type patchDecl struct {
	k     *kust
	field string // patchesStrategicMerge, patches or patchesJson6902
	index int    // in that list
	// file is the patch file (repository-relative), "" for an inline
	// patch, whose text is the scalar at node.
	file string
	node *yaml.Node
	// target selects the objects; nil means the patch names its object.
	target *selector
	// late is true for patchesJson6902, applied after the kustomization's
	// own namespace, prefix and suffix.
	late bool

	text []byte
	pf   *yamledit.File // the parsed patch text
	json bool           // RFC 6902 operations rather than strategic merge
	err  error
}

// where names the patch for people: its file, or the kustomization entry.
func (p *patchDecl) where() string {
	if p.file != "" {
		return p.file
	}
	return fmt.Sprintf("%s (inline %s[%d])", p.k.file, p.field, p.index)
}

// editFile is the file an edit of the patch changes.
func (p *patchDecl) editFile() string {
	if p.file != "" {
		return p.file
	}
	return p.k.file
}

// selector is a kustomize patch target.
type selector struct {
	Group              string `yaml:"group"`
	Version            string `yaml:"version"`
	Kind               string `yaml:"kind"`
	Name               string `yaml:"name"`
	Namespace          string `yaml:"namespace"`
	LabelSelector      string `yaml:"labelSelector"`
	AnnotationSelector string `yaml:"annotationSelector"`
}

// kustFile returns the kustomization file of dir in the view, "" when it
// has none.
func kustFile(v *view, dir string) string {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := path.Join(dir, name)
		if _, err := v.read(p); err == nil {
			return p
		}
	}
	return ""
}

// loadKust reads the kustomization of dir. Errors are kept in kust.err (and
// per patch in patchDecl.err): kustomize reports them when it renders.
func loadKust(v *view, dir string) *kust {
	k := &kust{dir: dir}
	k.file = kustFile(v, dir)
	if k.file == "" {
		k.err = fmt.Errorf("%s: no kustomization file", orDot(dir))
		return k
	}
	data, err := v.read(k.file)
	if err != nil {
		k.err = err
		return k
	}
	f, err := yamledit.Parse(k.file, data, yamledit.Options{MaxBytes: maxFileBytes})
	if err != nil {
		k.err = err
		return k
	}
	k.f = f
	if len(f.Docs) == 0 || f.Docs[0].Node == nil || f.Docs[0].Node.YNode().Kind != yaml.MappingNode {
		k.err = fmt.Errorf("%s: not a kustomization", k.file)
		return k
	}
	n := f.Docs[0].Node.YNode()
	k.component = scalarAt(n, "kind") == "Component"
	k.prefix = scalarAt(n, "namePrefix")
	k.suffix = scalarAt(n, "nameSuffix")
	k.namespace = scalarAt(n, "namespace")
	for _, field := range []string{"resources", "bases", "components"} {
		for _, it := range seqAt(n, field) {
			if it.Kind != yaml.ScalarNode || isRemote(it.Value) {
				continue
			}
			p, err := join(dir, it.Value)
			if err != nil {
				k.err = err
				continue
			}
			switch {
			case kustFile(v, p) != "":
				if field == "components" {
					k.components = append(k.components, p)
				} else {
					k.dirs = append(k.dirs, p)
				}
			default:
				k.files = append(k.files, p)
			}
		}
	}
	for i, it := range seqAt(n, "patchesStrategicMerge") {
		if it.Kind != yaml.ScalarNode {
			continue
		}
		pd := &patchDecl{k: k, field: "patchesStrategicMerge", index: i}
		if strings.ContainsAny(it.Value, "\n:") {
			pd.node = it
		} else {
			pd.file, pd.err = join(dir, it.Value)
		}
		k.patches = append(k.patches, pd.load(v))
	}
	for _, field := range []string{"patches", "patchesJson6902"} {
		for i, it := range seqAt(n, field) {
			if it.Kind != yaml.MappingNode {
				continue
			}
			pd := &patchDecl{k: k, field: field, index: i, late: field == "patchesJson6902"}
			if p := scalarAt(it, "path"); p != "" {
				pd.file, pd.err = join(dir, p)
			} else if pn := mapGet(it, "patch"); pn != nil && pn.Kind == yaml.ScalarNode {
				pd.node = pn
			} else {
				pd.err = fmt.Errorf("%s: %s[%d] has neither path nor patch", k.file, field, i)
			}
			if t := mapGet(it, "target"); t != nil {
				pd.target = &selector{}
				if err := t.Decode(pd.target); err != nil {
					pd.err = fmt.Errorf("%s: %s[%d].target: %w", k.file, field, i, err)
				}
			}
			k.patches = append(k.patches, pd.load(v))
		}
	}
	// patchesJson6902 run after the name transformers: keep kustomize's
	// order (stable: strategic-merge and patches entries first).
	slices.SortStableFunc(k.patches, func(a, b *patchDecl) int {
		switch {
		case a.late == b.late:
			return 0
		case a.late:
			return 1
		}
		return -1
	})
	return k
}

// load reads and parses the patch text.
func (p *patchDecl) load(v *view) *patchDecl {
	if p.err != nil {
		return p
	}
	if p.file != "" {
		b, err := v.read(p.file)
		if err != nil {
			p.err = err
			return p
		}
		p.text = b
	} else {
		p.text = []byte(p.node.Value)
	}
	name := p.where()
	f, err := yamledit.Parse(name, p.text, yamledit.Options{MaxBytes: maxFileBytes})
	if err != nil {
		p.err = err
		return p
	}
	p.pf = f
	for _, d := range f.Docs {
		if d.Node != nil && d.Node.YNode().Kind == yaml.SequenceNode {
			p.json = true
		}
	}
	return p
}

// isRemote reports whether a kustomize resource is a remote one (a URL or
// a Git reference): nothing in this repository to edit.
func isRemote(r string) bool {
	return strings.Contains(r, "://") || strings.HasPrefix(r, "git@") ||
		strings.HasPrefix(r, "github.com/") || strings.Contains(r, "?ref=") ||
		strings.Contains(r, "//") || strings.HasSuffix(r, ".git")
}

// graph is every kustomization of the repository.
type graph struct {
	roots []string
	kusts map[string]*kust
	// usedBy lists, for a kustomization, the kustomizations that build on
	// it (as a resource or a component).
	usedBy map[string][]string
}

func loadGraph(v *view, roots []string) *graph {
	g := &graph{roots: roots, kusts: map[string]*kust{}, usedBy: map[string][]string{}}
	for _, r := range roots {
		g.kusts[r] = loadKust(v, r)
	}
	for _, r := range roots {
		k := g.kusts[r]
		for _, d := range append(slices.Clone(k.dirs), k.components...) {
			if _, ok := g.kusts[d]; !ok {
				g.kusts[d] = loadKust(v, d) // a kustomization in a hidden directory
			}
			if !slices.Contains(g.usedBy[d], r) {
				g.usedBy[d] = append(g.usedBy[d], r)
			}
		}
	}
	return g
}

// topLevel reports whether no other kustomization builds on root: it is
// what gets deployed.
func (g *graph) topLevel(root string) bool { return len(g.usedBy[root]) == 0 }

// chains returns every way from root down to a kustomization that lists
// file as a resource, outermost first.
func (g *graph) chains(root, file string) [][]*kust {
	var out [][]*kust
	var walk func(dir string, seen []string)
	walk = func(dir string, seen []string) {
		if slices.Contains(seen, dir) || len(seen) > 64 {
			return
		}
		k := g.kusts[dir]
		if k == nil {
			return
		}
		seen = append(seen, dir)
		if slices.Contains(k.files, file) {
			c := make([]*kust, 0, len(seen))
			for _, s := range seen {
				c = append(c, g.kusts[s])
			}
			out = append(out, c)
		}
		for _, d := range append(slices.Clone(k.dirs), k.components...) {
			walk(d, seen)
		}
	}
	walk(root, nil)
	return out
}

// YAML helpers over plain nodes.

func mapGet(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func scalarAt(n *yaml.Node, key string) string {
	v := mapGet(n, key)
	if v == nil || v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" {
		return ""
	}
	return v.Value
}

func seqAt(n *yaml.Node, key string) []*yaml.Node {
	v := mapGet(n, key)
	if v == nil || v.Kind != yaml.SequenceNode {
		return nil
	}
	return v.Content
}
