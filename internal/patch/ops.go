package patch

import (
	"encoding/json"
	"fmt"
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
	for _, t := range tokens {
		switch x := v.(type) {
		case map[string]any:
			next, ok := x[t]
			if !ok {
				return false
			}
			v = next
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(x) {
				return false
			}
			v = x[i]
		default:
			return false
		}
	}
	return true
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
