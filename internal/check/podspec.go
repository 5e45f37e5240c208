package check

import (
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

// lookup follows keys through mappings; nil when any is missing or null.
func lookup(n *yaml.RNode, keys ...string) *yaml.RNode {
	for _, k := range keys {
		if n == nil || n.YNode().Kind != yaml.MappingNode {
			return nil
		}
		f := n.Field(k)
		if f == nil {
			return nil
		}
		n = f.Value
	}
	if n == nil || yaml.IsMissingOrNull(n) {
		return nil
	}
	return n
}

// Lookup is lookup for other packages: the node at keys below n, or nil.
func Lookup(n *yaml.RNode, keys ...string) *yaml.RNode { return lookup(n, keys...) }
