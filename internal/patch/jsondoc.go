package patch

import (
	"bytes"
	"encoding/json"
	"reflect"
)

// Doc is a JSON document that is decoded at most once: a caller that
// compares one object with several others, or renders several fixes for
// it, pays for one decoding. A Doc is for one goroutine at a time.
type Doc struct {
	JSON []byte

	decoded bool
	value   any
	err     error
}

// NewDoc wraps a JSON document.
func NewDoc(b []byte) *Doc { return &Doc{JSON: b} }

// Value returns the decoded document. It is shared: callers must not change
// it.
func (d *Doc) Value() (any, error) {
	if !d.decoded {
		d.err = json.Unmarshal(d.JSON, &d.value)
		d.decoded = true
	}
	return d.value, d.err
}

// SameDoc compares two JSON documents as values, as SameJSON does.
func SameDoc(a, b *Doc) bool {
	if bytes.Equal(a.JSON, b.JSON) {
		return true
	}
	x, err := a.Value()
	if err != nil {
		return false
	}
	y, err := b.Value()
	if err != nil {
		return false
	}
	return equalJSON(x, y)
}

// equalJSON is reflect.DeepEqual for values decoded from JSON, without
// reflection.
func equalJSON(x, y any) bool {
	switch a := x.(type) {
	case map[string]any:
		b, ok := y.(map[string]any)
		if !ok || (a == nil) != (b == nil) || len(a) != len(b) {
			return false
		}
		for k, av := range a {
			bv, ok := b[k]
			if !ok || !equalJSON(av, bv) {
				return false
			}
		}
		return true
	case []any:
		b, ok := y.([]any)
		if !ok || (a == nil) != (b == nil) || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !equalJSON(a[i], b[i]) {
				return false
			}
		}
		return true
	case string:
		b, ok := y.(string)
		return ok && a == b
	case float64:
		b, ok := y.(float64)
		return ok && a == b
	case bool:
		b, ok := y.(bool)
		return ok && a == b
	case nil:
		return y == nil
	}
	return reflect.DeepEqual(x, y)
}
