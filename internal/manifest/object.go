package manifest

import (
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/finding"
)

// Object is one Kubernetes object read from somewhere.
type Object struct {
	// Node is the object's YAML node. For objects read from files it is the
	// document node of a yamledit.File, so edits can be spliced back.
	Node *yaml.RNode
	Ref  finding.ObjectRef
	Pos  finding.Position
	// InDoc is the path from the document's root to the object: empty for
	// a document that is the object, ["items", "3"] for an item of a List.
	InDoc []string
}

// ObjectRefOf reads the apiVersion, kind, namespace and name of a node.
// It reads exactly what kyaml's RNode.GetMeta and Lookup read (the first
// key of a name, empty and null values as unset), straight from the
// nodes: it runs once per object of every input, and GetMeta also builds
// maps of every label and annotation.
func ObjectRefOf(n *yaml.RNode) (finding.ObjectRef, bool) {
	root := n.YNode()
	if root == nil || root.Tag == yaml.NodeTagNull {
		return finding.ObjectRef{}, false
	}
	apiVersion, kind := value(field(root, "apiVersion")), value(field(root, "kind"))
	if kind == "" || apiVersion == "" {
		return finding.ObjectRef{}, false
	}
	ref := finding.ObjectRef{APIVersion: apiVersion, Kind: kind}
	if meta := field(root, "metadata"); !nilOrEmpty(meta) {
		if f := field(meta, "name"); !nilOrEmpty(f) {
			ref.Name = f.Value
		}
		ref.Namespace = value(field(meta, "namespace"))
	}
	ref.UID = scalarAt(root, "metadata", "uid")
	return ref, true
}

// field returns the value of the first key k of mapping n (kyaml's
// RNode.Field), or nil.
func field(n *yaml.Node, k string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == k {
			return n.Content[i+1]
		}
	}
	return nil
}

// nilOrEmpty is kyaml's IsYNodeNilOrEmpty.
func nilOrEmpty(n *yaml.Node) bool {
	return n == nil || n.Tag == yaml.NodeTagNull ||
		(n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && len(n.Content) == 0 ||
		n.Kind == 0 && n.Style == 0 && n.Tag == "" && n.Value == "" && n.Anchor == "" && n.Alias == nil &&
			n.Content == nil && n.HeadComment == "" && n.LineComment == "" && n.FootComment == "" && n.Line == 0 && n.Column == 0
}

// value is what GetMeta reads of a field: kyaml's GetValue, "" when unset.
func value(n *yaml.Node) string {
	if nilOrEmpty(n) {
		return ""
	}
	return n.Value
}

// scalarAt follows keys through mappings as RNode.Pipe(yaml.Lookup(keys...))
// does and returns the scalar there, or "": a null or missing step ends
// the look-up, and so does a step that is not a mapping (Lookup's error).
func scalarAt(n *yaml.Node, keys ...string) string {
	for _, k := range keys {
		if n == nil || n.Tag == yaml.NodeTagNull || n.Kind != yaml.MappingNode || len(n.Content)%2 != 0 {
			return ""
		}
		if n = field(n, k); n == nil {
			return ""
		}
	}
	if n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// WithoutControlled returns the objects that no other object of objs
// controls (by ownerReferences with controller: true and a UID): in a
// snapshot of a cluster, a Pod made by a ReplicaSet made by a Deployment is
// represented by the Deployment, whose pod template a person wrote.
// Manifests in a repository carry no owner references and are all kept.
func WithoutControlled(objs []Object) []Object {
	uids := make(map[string]bool, len(objs))
	for _, o := range objs {
		if o.Ref.UID != "" {
			uids[o.Ref.UID] = true
		}
	}
	out := make([]Object, 0, len(objs))
	for _, o := range objs {
		if uid := controllerUID(o.Node); uid == "" || !uids[uid] {
			out = append(out, o)
		}
	}
	return out
}

// controllerUID returns the UID of the first owner reference with
// controller: true, read as Lookup and stringAt would.
func controllerUID(n *yaml.RNode) string {
	root := n.YNode()
	var refs *yaml.Node
	for i, k := range []string{"metadata", "ownerReferences"} {
		if root == nil || root.Tag == yaml.NodeTagNull || root.Kind != yaml.MappingNode || len(root.Content)%2 != 0 {
			return ""
		}
		if root = field(root, k); root == nil {
			return ""
		}
		if i == 1 {
			refs = root
		}
	}
	if refs.Kind != yaml.SequenceNode {
		return ""
	}
	for _, r := range refs.Content {
		if scalarAt(r, "controller") == "true" {
			return scalarAt(r, "uid")
		}
	}
	return ""
}

// Head returns a mapping of n's first apiVersion, kind and metadata
// entries, sharing their nodes with n: what identifies the object, where
// it comes from and who controls it, without its spec and status. A node
// that is not a mapping is returned as it is.
func Head(n *yaml.RNode) *yaml.RNode {
	root := n.YNode()
	if root == nil || root.Kind != yaml.MappingNode {
		return n
	}
	head := &yaml.Node{Kind: yaml.MappingNode, Tag: root.Tag, Style: root.Style, Line: root.Line, Column: root.Column}
	for _, k := range []string{"apiVersion", "kind", "metadata"} {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == k {
				head.Content = append(head.Content, root.Content[i], root.Content[i+1])
				break
			}
		}
	}
	return yaml.NewRNode(head)
}
