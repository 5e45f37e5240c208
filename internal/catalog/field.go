package catalog

import (
	"fmt"
	"strings"
)

// Segment is one step of a field path.
type Segment struct {
	Key string
	// Each iterates the elements of the list at Key.
	Each bool
}

// Field is a parsed field path.
type Field []Segment

// ParseField parses a path such as securityContext.capabilities.add,
// ports[].hostPort or metadata.annotations["a.b/c"].
func ParseField(s string) (Field, error) {
	if s == "" {
		return nil, fmt.Errorf("empty field path")
	}
	var out Field
	for i := 0; i < len(s); {
		var key string
		switch {
		case s[i] == '[' && i+1 < len(s) && s[i+1] == '"':
			end := strings.Index(s[i+2:], `"]`)
			if end < 0 {
				return nil, fmt.Errorf("field %q: unterminated [\"...\"]", s)
			}
			key = s[i+2 : i+2+end]
			i += end + 4
		default:
			j := i
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			key = s[i:j]
			i = j
		}
		if key == "" {
			return nil, fmt.Errorf("field %q: empty key", s)
		}
		if strings.ContainsAny(key, `]"`) {
			return nil, fmt.Errorf("field %q: stray ] or \" in key %q", s, key)
		}
		seg := Segment{Key: key}
		if strings.HasPrefix(s[i:], "[]") {
			seg.Each = true
			i += 2
		}
		out = append(out, seg)
		if i < len(s) {
			switch {
			case s[i] == '.':
				i++
				if i == len(s) {
					return nil, fmt.Errorf("field %q: trailing dot", s)
				}
			case strings.HasPrefix(s[i:], `["`):
			default:
				return nil, fmt.Errorf("field %q: unexpected %q at %d", s, s[i], i)
			}
		}
	}
	return out, nil
}

// String writes the path back in its parsed form.
func (f Field) String() string {
	var b strings.Builder
	for i, s := range f {
		if strings.ContainsAny(s.Key, ".[]\"") {
			fmt.Fprintf(&b, `["%s"]`, s.Key)
		} else {
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.Key)
		}
		if s.Each {
			b.WriteString("[]")
		}
	}
	return b.String()
}

// Expand replaces {container} in keys.
func (f Field) Expand(container string) Field {
	found := false
	for _, s := range f {
		found = found || strings.Contains(s.Key, "{container}")
	}
	if !found {
		return f
	}
	out := make(Field, len(f))
	for i, s := range f {
		s.Key = strings.ReplaceAll(s.Key, "{container}", container)
		out[i] = s
	}
	return out
}
