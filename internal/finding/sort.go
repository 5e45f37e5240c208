package finding

import (
	"cmp"
	"slices"
	"strings"
)

// Compare orders findings for stable output: file, document, line, object,
// container, control, path. The order is total, so an unstable sort (much
// faster on large slices of large structs) gives the same result every time.
func Compare(a, b Finding) int { return compare(&a, &b) }

// compare is Compare without copying the findings; it stops at the first
// key that differs.
func compare(a, b *Finding) int {
	if c := strings.Compare(a.Position.File, b.Position.File); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Position.Document, b.Position.Document); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Position.Line, b.Position.Line); c != 0 {
		return c
	}
	if c := strings.Compare(a.Object.Kind, b.Object.Kind); c != 0 {
		return c
	}
	if c := strings.Compare(a.Object.Namespace, b.Object.Namespace); c != 0 {
		return c
	}
	if c := strings.Compare(a.Object.Name, b.Object.Name); c != 0 {
		return c
	}
	if c := strings.Compare(a.Object.Cluster, b.Object.Cluster); c != 0 {
		return c
	}
	if c := strings.Compare(a.Object.UID, b.Object.UID); c != 0 {
		return c
	}
	if c := strings.Compare(a.ContainerType, b.ContainerType); c != 0 {
		return c
	}
	if c := strings.Compare(a.Container, b.Container); c != 0 {
		return c
	}
	if c := strings.Compare(a.ControlID, b.ControlID); c != 0 {
		return c
	}
	if c := strings.Compare(a.Path, b.Path); c != 0 {
		return c
	}
	return strings.Compare(a.Origin, b.Origin)
}

// Sort orders findings by Compare.
//
// Findings are large: it sorts their indexes (with the same algorithm, so
// the result is the one sorting the findings themselves gives) and then
// moves each finding once.
func Sort(fs []Finding) {
	idx := make([]int, len(fs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int { return compare(&fs[i], &fs[j]) })
	// Position k takes the finding at idx[k]: follow each cycle of the
	// permutation, marking the positions done.
	for i := range idx {
		if idx[i] == i {
			continue
		}
		tmp := fs[i]
		j := i
		for {
			k := idx[j]
			idx[j] = j
			if k == i {
				fs[j] = tmp
				break
			}
			fs[j] = fs[k]
			j = k
		}
	}
}

// IsSorted reports whether fs is in Compare's order.
func IsSorted(fs []Finding) bool {
	for i := 1; i < len(fs); i++ {
		if compare(&fs[i-1], &fs[i]) > 0 {
			return false
		}
	}
	return true
}
