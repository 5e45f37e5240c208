package yamledit

import (
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// equalNode reports whether two trees hold the same data: same kinds, tags
// and values; mapping key order, styles and comments are ignored; all nulls
// are equal.
func equalNode(a, b *yaml.Node) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if a.Kind != b.Kind || a.ShortTag() != b.ShortTag() {
		return false
	}
	switch a.Kind {
	case yaml.ScalarNode:
		return a.ShortTag() == "!!null" || a.Value == b.Value
	case yaml.SequenceNode:
		if len(a.Content) != len(b.Content) {
			return false
		}
		for i := range a.Content {
			if !equalNode(a.Content[i], b.Content[i]) {
				return false
			}
		}
		return true
	case yaml.MappingNode:
		return equalMapping(a, b)
	case yaml.AliasNode:
		return a.Alias == b.Alias
	}
	return false
}

func equalMapping(a, b *yaml.Node) bool {
	if len(a.Content) != len(b.Content) || len(a.Content)%2 != 0 {
		return false
	}
	bk, ok := keyIndex(b)
	if _, aok := keyIndex(a); !ok || !aok {
		for i := range a.Content {
			if !equalNode(a.Content[i], b.Content[i]) {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(a.Content); i += 2 {
		j, ok := bk[keyOf(a.Content[i])]
		if !ok || !equalNode(a.Content[i+1], b.Content[j+1]) {
			return false
		}
	}
	return true
}

// keyOf returns the identity of a scalar mapping key.
func keyOf(k *yaml.Node) string {
	t := k.ShortTag()
	if t == "!!null" {
		return t
	}
	return t + "\x00" + k.Value
}

// keyIndex maps the keys of a mapping to the index of their key node. It
// fails for non-scalar or duplicate keys.
func keyIndex(m *yaml.Node) (map[string]int, bool) {
	idx := make(map[string]int, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if k.Kind != yaml.ScalarNode {
			return nil, false
		}
		id := keyOf(k)
		if _, dup := idx[id]; dup {
			return nil, false
		}
		idx[id] = i
	}
	return idx, len(m.Content)%2 == 0
}

// canon returns a canonical serialization of a tree, equal for trees that
// equalNode considers equal.
func canon(n *yaml.Node) string {
	var b strings.Builder
	writeCanon(&b, n)
	return b.String()
}

func writeCanon(b *strings.Builder, n *yaml.Node) {
	if n == nil {
		b.WriteString("~")
		return
	}
	tag := n.ShortTag()
	switch n.Kind {
	case yaml.ScalarNode:
		if tag == "!!null" {
			b.WriteString("N")
			return
		}
		b.WriteString("S" + strconv.Quote(tag) + strconv.Quote(n.Value))
	case yaml.SequenceNode:
		b.WriteString("Q" + strconv.Quote(tag) + "[")
		for _, c := range n.Content {
			writeCanon(b, c)
			b.WriteString(",")
		}
		b.WriteString("]")
	case yaml.MappingNode:
		entries := make([]string, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			entries = append(entries, canon(n.Content[i])+":"+canon(n.Content[i+1]))
		}
		sort.Strings(entries)
		b.WriteString("M" + strconv.Quote(tag) + "{" + strings.Join(entries, ",") + "}")
	default:
		b.WriteString("?" + strconv.Itoa(int(n.Kind)) + strconv.Quote(n.Value))
	}
}
