package overlay

import (
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// seg is one step of a field path that survives kustomize: a mapping key,
// a list element named by its merge key (containers by name, ports by
// containerPort), or, for lists without one, a position.
type seg struct {
	key string // a mapping key; empty for a list step
	// mkey and mval name a list element by its merge key.
	mkey, mval string
	idx        int // position, for a list step without merge key
}

func (s seg) isKey() bool { return s.key != "" }
func (s seg) named() bool { return s.key == "" && s.mkey != "" }
func (s seg) String() string {
	switch {
	case s.isKey():
		return s.key
	case s.named():
		return "[" + s.mkey + "=" + s.mval + "]"
	}
	return "[" + strconv.Itoa(s.idx) + "]"
}

type segPath []seg

func (p segPath) String() string {
	var b strings.Builder
	for i, s := range p {
		if i > 0 && s.isKey() {
			b.WriteByte('.')
		}
		b.WriteString(s.String())
	}
	return b.String()
}

func (p segPath) hasPrefix(q segPath) bool {
	if len(q) > len(p) {
		return false
	}
	for i := range q {
		if p[i] != q[i] {
			return false
		}
	}
	return true
}

// mergeKeys are the strategic-merge keys of the pod spec's lists that are
// not merged by name.
var mergeKeys = map[string]string{
	"ports":                     "containerPort",
	"volumeMounts":              "mountPath",
	"volumeDevices":             "devicePath",
	"hostAliases":               "ip",
	"topologySpreadConstraints": "topologyKey",
}

// elementKey returns the merge key and value naming an element of the
// list under field.
func elementKey(field string, el *yaml.Node) (string, string, bool) {
	if el == nil || el.Kind != yaml.MappingNode {
		return "", "", false
	}
	k := mergeKeys[field]
	if k == "" {
		k = "name"
	}
	if v := mapGet(el, k); v != nil && v.Kind == yaml.ScalarNode {
		return k, v.Value, true
	}
	return "", "", false
}

// pointerTokens splits an RFC 6901 pointer.
func pointerTokens(p string) []string {
	if p == "" || p == "/" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	r := strings.NewReplacer("~1", "/", "~0", "~")
	for i, s := range parts {
		parts[i] = r.Replace(s)
	}
	return parts
}

// semantic turns pointer tokens into a path that names list elements by
// their merge key, reading the list elements of obj (the object the
// tokens' positions refer to). last, when not nil, names the element an
// append ("-") adds.
func semantic(obj *yaml.Node, tokens []string, last *yaml.Node) segPath {
	var out segPath
	cur := obj
	field := ""
	for _, t := range tokens {
		if cur != nil && cur.Kind == yaml.SequenceNode {
			if t == "-" {
				if k, v, ok := elementKey(field, last); ok {
					out = append(out, seg{mkey: k, mval: v})
				} else {
					out = append(out, seg{idx: -1})
				}
				cur = last
				continue
			}
			i, err := strconv.Atoi(t)
			if err == nil && i >= 0 && i < len(cur.Content) {
				el := cur.Content[i]
				if k, v, ok := elementKey(field, el); ok {
					out = append(out, seg{mkey: k, mval: v})
				} else {
					out = append(out, seg{idx: i})
				}
				cur = el
				continue
			}
			out = append(out, seg{idx: i})
			cur = nil
			continue
		}
		out = append(out, seg{key: t})
		cur = mapGet(cur, t)
		field = t
	}
	return out
}

// find follows a semantic path in n; nil when a step is missing.
func find(n *yaml.Node, p segPath) *yaml.Node {
	cur := n
	for _, s := range p {
		cur = step(cur, s)
		if cur == nil {
			return nil
		}
	}
	return cur
}

func step(n *yaml.Node, s seg) *yaml.Node {
	if n == nil {
		return nil
	}
	switch {
	case s.isKey():
		return mapGet(n, s.key)
	case n.Kind != yaml.SequenceNode:
		return nil
	case s.named():
		for _, el := range n.Content {
			if v := mapGet(el, s.mkey); v != nil && v.Kind == yaml.ScalarNode && v.Value == s.mval {
				return el
			}
		}
		return nil
	case s.idx >= 0 && s.idx < len(n.Content):
		return n.Content[s.idx]
	}
	return nil
}

func isNull(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// smpSets reports whether a strategic-merge patch document sets the value
// at p (or deletes or replaces something on the way to it).
func smpSets(doc *yaml.Node, p segPath) bool {
	cur := doc
	for _, s := range p {
		if cur == nil {
			return false
		}
		if isNull(cur) || cur.Kind == yaml.ScalarNode {
			return true // the patch deletes or replaces a parent
		}
		if cur.Kind == yaml.MappingNode && scalarAt(cur, "$patch") != "" {
			return true // replace or delete directive
		}
		if !s.isKey() && !s.named() {
			return cur.Kind == yaml.SequenceNode // a list without merge key is replaced whole
		}
		cur = step(cur, s)
	}
	return cur != nil
}
