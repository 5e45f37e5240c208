package finding

import (
	"cmp"
	"slices"
)

// Sort orders findings for stable output: file, line, object, container,
// control.
func Sort(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Position.File, b.Position.File),
			cmp.Compare(a.Position.Document, b.Position.Document),
			cmp.Compare(a.Position.Line, b.Position.Line),
			cmp.Compare(a.Object.String(), b.Object.String()),
			cmp.Compare(a.Container, b.Container),
			cmp.Compare(a.ControlID, b.ControlID),
			cmp.Compare(a.Path, b.Path),
		)
	})
}
