package check

import (
	"iter"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// TemplatePath returns the path from an object's root to its pod template
// (the node holding metadata and spec), and whether the kind has one. For a
// Pod the template is the object itself (an empty path).
func TemplatePath(kind string) ([]string, bool) {
	switch kind {
	case "Pod":
		return []string{}, true
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job":
		return []string{"spec", "template"}, true
	case "CronJob":
		return []string{"spec", "jobTemplate", "spec", "template"}, true
	}
	return nil, false
}

// lookupNode follows keys through mappings; nil when any is missing or
// null. Aliases are followed and YAML merge keys (<<) are honoured, so files
// that share blocks with anchors are checked as Kubernetes reads them.
func lookupNode(n *yaml.Node, keys ...string) *yaml.Node {
	y := deref(n)
	if y == nil {
		return nil
	}
	for _, k := range keys {
		y = field(y, k, 0)
		if y == nil {
			return nil
		}
	}
	if y.Kind == yaml.ScalarNode && y.Tag == "!!null" {
		return nil
	}
	return y
}

// deref follows an alias to its anchored node.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// field returns the value of key in mapping n, looking into merged
// mappings (<<: *x or <<: [*x, *y]) when n has no such key itself.
func field(n *yaml.Node, key string, depth int) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode || depth > 10 {
		return nil
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case key:
			return deref(n.Content[i+1])
		case "<<":
			v := deref(n.Content[i+1])
			if v.Kind == yaml.SequenceNode {
				merges = append(merges, v.Content...)
			} else {
				merges = append(merges, v)
			}
		}
	}
	for _, m := range merges {
		if v := field(m, key, depth+1); v != nil {
			return v
		}
	}
	return nil
}

// elements yields a sequence's items, with aliases followed, and their
// indexes; nothing when n is not a sequence.
func elements(n *yaml.Node) iter.Seq2[int, *yaml.Node] {
	return func(yield func(int, *yaml.Node) bool) {
		y := deref(n)
		if y == nil || y.Kind != yaml.SequenceNode {
			return
		}
		for i, c := range y.Content {
			if !yield(i, deref(c)) {
				return
			}
		}
	}
}

// Lookup returns the node at keys below n, or nil; see lookupNode.
func Lookup(n *yaml.RNode, keys ...string) *yaml.RNode {
	if n == nil {
		return nil
	}
	y := lookupNode(n.YNode(), keys...)
	if y == nil {
		return nil
	}
	return yaml.NewRNode(y)
}
