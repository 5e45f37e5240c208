package helm

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// change is one difference between two renders of an object: the JSON
// pointer of a leaf (a scalar, a list whose length changed, an empty map,
// or a value present on one side only) and its values.
type change struct {
	ptr           []string
	before, after any
	// hasBefore and hasAfter say whether the value exists on each side.
	hasBefore, hasAfter bool
}

func (c change) String() string { return pointerString(c.ptr) }

func pointerString(p []string) string {
	var b strings.Builder
	for _, s := range p {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(s))
	}
	return b.String()
}

// diffValues lists the leaves that differ between a and b (decoded JSON).
// A null facing a map counts as an empty map, so a mapping that gains its
// first key shows as that key.
func diffValues(a, b any) []change {
	var out []change
	var walk func(p []string, a, b any, ha, hb bool)
	walk = func(p []string, a, b any, ha, hb bool) {
		am, aMap := a.(map[string]any)
		bm, bMap := b.(map[string]any)
		if aMap && !hb || aMap && b == nil {
			bm, bMap = map[string]any{}, true
		}
		if bMap && !ha || bMap && a == nil {
			am, aMap = map[string]any{}, true
		}
		switch {
		case aMap && bMap:
			if len(am) == 0 && len(bm) == 0 {
				if ha != hb {
					out = append(out, change{ptr: slices.Clone(p), before: a, after: b, hasBefore: ha, hasAfter: hb})
				}
				return
			}
			keys := make([]string, 0, len(am)+len(bm))
			for k := range am {
				keys = append(keys, k)
			}
			for k := range bm {
				if _, ok := am[k]; !ok {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			for _, k := range keys {
				av, ok1 := am[k]
				bv, ok2 := bm[k]
				walk(append(p, k), av, bv, ok1, ok2)
			}
			return
		}
		al, aList := a.([]any)
		bl, bList := b.([]any)
		if aList && bList && len(al) == len(bl) {
			for i := range al {
				walk(append(p, strconv.Itoa(i)), al[i], bl[i], true, true)
			}
			return
		}
		if ha == hb && reflect.DeepEqual(a, b) {
			return
		}
		out = append(out, change{ptr: slices.Clone(p), before: a, after: b, hasBefore: ha, hasAfter: hb})
	}
	walk(nil, a, b, true, true)
	return out
}

// under reports whether p is at or below prefix.
func under(p, prefix []string) bool {
	return len(p) >= len(prefix) && slices.Equal(p[:len(prefix)], prefix)
}

// emptyish is a value that means nothing: absent, null or an empty map.
func emptyish(v any, has bool) bool {
	if !has || v == nil {
		return true
	}
	m, ok := v.(map[string]any)
	return ok && len(m) == 0
}

// allowedSet holds, per object, the pointers a fix may change.
type allowedSet map[string][][]string

func (a allowedSet) add(key string, ptr []string) {
	for _, p := range a[key] {
		if slices.Equal(p, ptr) {
			return
		}
	}
	a[key] = append(a[key], ptr)
}

// allows reports whether a change to an object is within its allowed
// pointers: at or below one of them, or an ancestor of one that only goes
// from nothing to an empty map or back.
func (a allowedSet) allows(key string, c change) bool {
	for _, p := range a[key] {
		if under(c.ptr, p) {
			return true
		}
		if under(p, c.ptr) && emptyish(c.before, c.hasBefore) && emptyish(c.after, c.hasAfter) {
			return true
		}
	}
	return false
}

// renderDiff compares two renders object by object.
type renderDiff struct {
	added, removed []string
	changes        map[string][]change // by object key
}

func (d *renderDiff) empty() bool {
	if len(d.added) > 0 || len(d.removed) > 0 {
		return false
	}
	for _, cs := range d.changes {
		if len(cs) > 0 {
			return false
		}
	}
	return true
}

// compareRenders diffs two renders, leaving out the volatile pointers
// (values a template makes up afresh on each render).
func compareRenders(a, b *snapshot, volatile allowedSet) *renderDiff {
	d := &renderDiff{changes: map[string][]change{}}
	for _, k := range a.keys {
		if _, ok := b.docs[k]; !ok {
			d.removed = append(d.removed, k)
		}
	}
	for _, k := range b.keys {
		av, ok := a.docs[k]
		if !ok {
			d.added = append(d.added, k)
			continue
		}
		for _, c := range diffValues(av, b.docs[k]) {
			if volatile != nil && volatile.allows(k, c) {
				continue
			}
			d.changes[k] = append(d.changes[k], c)
		}
	}
	return d
}

// describeKey turns an object key into Kind/namespace/name for messages.
func describeKey(k string) string {
	parts := strings.Split(k, "|")
	if len(parts) != 5 {
		return k
	}
	if parts[3] != "" {
		return fmt.Sprintf("%s/%s/%s", parts[2], parts[3], parts[4])
	}
	return parts[2] + "/" + parts[4]
}
