// Package patch turns a catalog control and a check result into a fix: the
// strategic-merge patch and the RFC 6902 operations for the whole object, a
// kubectl patch command, and the same change applied to a YAML node with
// kyaml's merge2 (which keeps comments). It does no I/O. The strategic-merge
// patch is checked with apimachinery's strategicpatch and the RFC 6902 ops
// with evanphx/json-patch, so all three forms provably agree.
package patch
