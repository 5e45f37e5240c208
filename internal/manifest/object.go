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
func ObjectRefOf(n *yaml.RNode) (finding.ObjectRef, bool) {
	meta, err := n.GetMeta()
	if err != nil || meta.Kind == "" || meta.APIVersion == "" {
		return finding.ObjectRef{}, false
	}
	return finding.ObjectRef{
		APIVersion: meta.APIVersion,
		Kind:       meta.Kind,
		Namespace:  meta.Namespace,
		Name:       meta.Name,
		UID:        stringAt(n, "metadata", "uid"),
	}, true
}

func stringAt(n *yaml.RNode, path ...string) string {
	v, err := n.Pipe(yaml.Lookup(path...))
	if err != nil || v == nil || v.YNode().Kind != yaml.ScalarNode {
		return ""
	}
	return v.YNode().Value
}

// WithoutControlled returns the objects that no other object of objs
// controls (by ownerReferences with controller: true and a UID): in a
// snapshot of a cluster, a Pod made by a ReplicaSet made by a Deployment is
// represented by the Deployment, whose pod template a person wrote.
// Manifests in a repository carry no owner references and are all kept.
func WithoutControlled(objs []Object) []Object {
	uids := map[string]bool{}
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

func controllerUID(n *yaml.RNode) string {
	refs, err := n.Pipe(yaml.Lookup("metadata", "ownerReferences"))
	if err != nil || refs == nil || refs.YNode().Kind != yaml.SequenceNode {
		return ""
	}
	for _, r := range refs.YNode().Content {
		rn := yaml.NewRNode(r)
		if stringAt(rn, "controller") == "true" {
			return stringAt(rn, "uid")
		}
	}
	return ""
}
