package sourcemap

import (
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/finding"
)

// Annotation and label keys read by Locate.
const (
	AnnotationRepo     = "source.kmend.dev/repo"
	AnnotationRef      = "source.kmend.dev/ref"
	AnnotationFile     = "source.kmend.dev/file"
	AnnotationDocument = "source.kmend.dev/document"

	annotationOrigin     = "config.kubernetes.io/origin"
	annotationTrackingID = "argocd.argoproj.io/tracking-id"
	labelInstance        = "app.kubernetes.io/instance"
	labelKustomizeName   = "kustomize.toolkit.fluxcd.io/name"
	labelKustomizeNS     = "kustomize.toolkit.fluxcd.io/namespace"
	labelHelmName        = "helm.toolkit.fluxcd.io/name"
	labelHelmNS          = "helm.toolkit.fluxcd.io/namespace"
)

// object is what Locate reads of a live object. It reads the YAML nodes
// directly (no decoding into structs): Locate runs once per object of a
// cluster.
type object struct {
	ref    finding.ObjectRef
	group  string
	node   *yaml.RNode
	ann    *yaml.Node // metadata.annotations mapping, or nil
	labels *yaml.Node // metadata.labels mapping, or nil
}

func readObject(n *yaml.RNode) (*object, bool) {
	if n == nil {
		return nil, false
	}
	root := deref(n.YNode())
	if root != nil && root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = deref(root.Content[0])
	}
	if root == nil || root.Kind != yaml.MappingNode {
		return nil, false
	}
	o := &object{node: n}
	o.ref.APIVersion = str(get(root, "apiVersion"))
	o.ref.Kind = str(get(root, "kind"))
	if o.ref.APIVersion == "" || o.ref.Kind == "" {
		return nil, false
	}
	o.group = groupOf(o.ref.APIVersion)
	meta := get(root, "metadata")
	o.ref.Name = str(get(meta, "name"))
	o.ref.Namespace = str(get(meta, "namespace"))
	o.ref.UID = str(get(meta, "uid"))
	o.ann = mapping(get(meta, "annotations"))
	o.labels = mapping(get(meta, "labels"))
	return o, true
}

func (o *object) annotation(k string) string { return str(get(o.ann, k)) }
func (o *object) label(k string) string      { return str(get(o.labels, k)) }

// groupOf returns the API group of an apiVersion ("" for the core group).
func groupOf(apiVersion string) string {
	if i := strings.LastIndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[:i]
	}
	return ""
}

// deref follows aliases.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// get returns the value of key in mapping n (aliases followed), or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return deref(n.Content[i+1])
		}
	}
	return nil
}

// at follows keys through mappings.
func at(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		n = get(n, k)
		if n == nil {
			return nil
		}
	}
	return n
}

func mapping(n *yaml.Node) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	return n
}

// str returns a scalar's value; "" for anything else and for null.
func str(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

// items returns a sequence's items (aliases followed).
func items(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	for _, c := range n.Content {
		if c = deref(c); c != nil {
			out = append(out, c)
		}
	}
	return out
}

// scalars returns the non-empty scalar items of a sequence.
func scalars(n *yaml.Node) []string {
	var out []string
	for _, c := range items(n) {
		if s := str(c); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// nonEmpty reports whether n holds something: a non-empty mapping or
// sequence, or a non-empty, non-null scalar.
func nonEmpty(n *yaml.Node) bool {
	n = deref(n)
	if n == nil {
		return false
	}
	switch n.Kind {
	case yaml.MappingNode, yaml.SequenceNode:
		return len(n.Content) > 0
	case yaml.ScalarNode:
		return str(n) != "" && n.Value != "{}" && n.Value != "[]"
	}
	return false
}
