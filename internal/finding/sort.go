package finding

import (
	"cmp"
	"slices"
)

// Compare orders findings for stable output: file, document, line, object,
// container, control, path. The order is total, so an unstable sort (much
// faster on large slices of large structs) gives the same result every time.
func Compare(a, b Finding) int {
	return cmp.Or(
		cmp.Compare(a.Position.File, b.Position.File),
		cmp.Compare(a.Position.Document, b.Position.Document),
		cmp.Compare(a.Position.Line, b.Position.Line),
		cmp.Compare(a.Object.Kind, b.Object.Kind),
		cmp.Compare(a.Object.Namespace, b.Object.Namespace),
		cmp.Compare(a.Object.Name, b.Object.Name),
		cmp.Compare(a.Object.Cluster, b.Object.Cluster),
		cmp.Compare(a.Object.UID, b.Object.UID),
		cmp.Compare(a.ContainerType, b.ContainerType),
		cmp.Compare(a.Container, b.Container),
		cmp.Compare(a.ControlID, b.ControlID),
		cmp.Compare(a.Path, b.Path),
		cmp.Compare(a.Origin, b.Origin),
	)
}

// Sort orders findings by Compare.
func Sort(fs []Finding) { slices.SortFunc(fs, Compare) }
