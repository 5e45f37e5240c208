package patch

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"github.com/kmend/kmend/internal/catalog"
)

// absoluteOps prefixes relative ops with base and makes them apply to doc:
// parents the document lacks are added as empty objects first, a replace of
// a missing member becomes an add, and a remove of a missing one is dropped.
// Each op is applied in turn with evanphx/json-patch, so the result is known
// to apply.
func absoluteOps(doc []byte, base string, rel []catalog.Op) ([]catalog.Op, error) {
	var out []catalog.Op
	cur := doc
	apply := func(op catalog.Op) error {
		b, err := json.Marshal([]catalog.Op{op})
		if err != nil {
			return err
		}
		p, err := jsonpatch.DecodePatch(b)
		if err != nil {
			return err
		}
		next, err := p.Apply(cur)
		if err != nil {
			return fmt.Errorf("op %s %s: %w", op.Op, op.Path, err)
		}
		cur = next
		out = append(out, op)
		return nil
	}
	for _, op := range rel {
		op.Path = base + op.Path
		if op.From != "" {
			op.From = base + op.From
		}
		var state any
		if err := json.Unmarshal(cur, &state); err != nil {
			return nil, err
		}
		tokens := splitPointer(op.Path)
		exists := has(state, tokens)
		switch op.Op {
		case "remove":
			if !exists {
				continue
			}
		case "replace":
			if !exists {
				op.Op = "add"
			}
		}
		if op.Op == "add" || op.Op == "copy" || op.Op == "move" {
			for i := len(splitPointer(base)) + 1; i < len(tokens); i++ {
				if !has(state, tokens[:i]) {
					if err := apply(catalog.Op{Op: "add", Path: joinPointer(tokens[:i]), Value: map[string]any{}}); err != nil {
						return nil, err
					}
					if err := json.Unmarshal(cur, &state); err != nil {
						return nil, err
					}
				}
			}
		}
		if err := apply(op); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// absoluteOpsOf gives what absoluteOps gives, and what the ops give when
// applied to doc (nil when that is not known), at less cost: the ops are
// worked out on doc's decoded value (see planOps) and applied together,
// once. When they cannot be worked out that way, or do not apply, it is
// absoluteOps, which gives the same ops or the same error.
func absoluteOpsOf(doc *Doc, base string, rel []catalog.Op) ([]catalog.Op, []byte, error) {
	if ops, ok := planOps(doc, base, rel); ok {
		if applied, err := ApplyJSONPatch(doc.JSON, ops); err == nil {
			return ops, applied, nil
		}
	}
	ops, err := absoluteOps(doc.JSON, base, rel)
	return ops, nil, err
}

// planOps works out absoluteOps's ops on doc's decoded value, for ops whose
// effect on it is plain: add, replace and remove of members of JSON objects
// below base, which must be an object. ok is false for anything else, and
// the caller then goes op by op.
func planOps(doc *Doc, base string, rel []catalog.Op) (ops []catalog.Op, ok bool) {
	root, err := doc.Value()
	if err != nil || strings.Contains(base, "~") {
		return nil, false
	}
	baseTokens := splitPointer(base)
	v, found := lookup(root, baseTokens)
	obj, isObj := v.(map[string]any)
	if !found || !isObj {
		return nil, false
	}
	p := planner{root: obj, owned: map[string]bool{}}
	for _, op := range rel {
		if op.From != "" || !strings.HasPrefix(op.Path, "/") || strings.Contains(op.Path, "~") {
			return nil, false
		}
		tokens := splitPointer(op.Path)
		if slices.Contains(tokens, "") {
			return nil, false
		}
		op.Path = base + op.Path
		_, exists := lookup(p.root, tokens)
		switch op.Op {
		case "remove":
			if !exists {
				continue
			}
			if !p.set(tokens, nil, true) {
				return nil, false
			}
		case "add", "replace":
			if !exists {
				op.Op = "add" // a replace of a missing member
			}
			value, ok := roundTrip(op.Value)
			if !ok {
				return nil, false
			}
			if op.Op == "add" {
				for i := 1; i < len(tokens); i++ {
					if _, there := lookup(p.root, tokens[:i]); there {
						continue
					}
					if !p.set(tokens[:i], map[string]any{}, false) {
						return nil, false
					}
					path := joinPointer(append(slices.Clip(baseTokens), tokens[:i]...))
					ops = append(ops, catalog.Op{Op: "add", Path: path, Value: map[string]any{}})
				}
			}
			if !p.set(tokens, value, false) {
				return nil, false
			}
		default:
			return nil, false
		}
		ops = append(ops, op)
	}
	return ops, true
}

// planner holds the base object of planOps as the ops so far left it. The
// decoded document is shared, so an object is copied before it first
// changes; owned holds the paths of the copies (and of the values the ops
// added, which are new too).
type planner struct {
	root  map[string]any
	owned map[string]bool
}

// set sets the member at tokens to value, or removes it with del. It
// reports false when a parent is not an object.
func (p *planner) set(tokens []string, value any, del bool) bool {
	if !p.owned[""] {
		p.root = maps.Clone(p.root)
		p.owned[""] = true
	}
	m := p.root
	for i, t := range tokens[:len(tokens)-1] {
		child, ok := m[t].(map[string]any)
		if !ok {
			return false
		}
		if path := pointer(tokens[:i+1]); !p.owned[path] {
			child = maps.Clone(child)
			m[t] = child
			p.owned[path] = true
		}
		m = child
	}
	last := tokens[len(tokens)-1]
	if del {
		delete(m, last)
		return true
	}
	m[last] = value
	p.owned[pointer(tokens)] = true
	return true
}

// roundTrip gives a value as decoding its JSON gives it, as evanphx's result
// would hold it.
func roundTrip(v any) (any, bool) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, false
	}
	return out, true
}

// lookup is has, also returning the member.
func lookup(v any, tokens []string) (any, bool) {
	for _, t := range tokens {
		switch x := v.(type) {
		case map[string]any:
			next, ok := x[t]
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func splitPointer(p string) []string {
	if p == "" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	r := strings.NewReplacer("~1", "/", "~0", "~")
	for i, s := range parts {
		parts[i] = r.Replace(s)
	}
	return parts
}

func joinPointer(tokens []string) string { return pointer(tokens) }

// has reports whether the JSON value v has a member at tokens.
func has(v any, tokens []string) bool {
	_, ok := lookup(v, tokens)
	return ok
}

// ApplyJSONPatch applies RFC 6902 ops to a JSON document.
func ApplyJSONPatch(doc []byte, ops []catalog.Op) ([]byte, error) {
	b, err := json.Marshal(ops)
	if err != nil {
		return nil, err
	}
	p, err := jsonpatch.DecodePatch(b)
	if err != nil {
		return nil, err
	}
	return p.Apply(doc)
}
