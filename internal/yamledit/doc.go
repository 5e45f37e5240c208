// Package yamledit edits YAML files (typically Kubernetes manifests kept in
// Git) while changing only the YAML nodes that were edited.
//
// Parse reads a file into kyaml nodes, one per document. A caller edits a
// deep copy of a document's node with the usual kyaml tools (merge2,
// SetField, ...) and hands it back with File.SetDoc. File.Render then
// computes a structural diff between the original and the edited trees and
// splices minimal text changes into the original bytes: a changed scalar
// replaces only its own text, a new key is inserted after the last entry of
// its mapping, a removed key loses only its own lines. Comments, blank lines,
// key order, quoting, flow style, sequence indentation, document separators,
// CRLF line endings and a missing final newline are kept byte for byte
// outside the edited spans.
//
// Render never returns bytes it has not checked: it re-parses its output and
// compares every document with the tree it was asked to produce, and fails
// with ErrUnfaithful if they differ. WriteFile then replaces a file
// atomically, and only when its content changes.
//
// An edit keeps trees in the File (the original documents decoded again,
// the edited ones) until File.Release ends it; File.Edit gives a fresh File
// for a new edit of the same content.
//
// Files that cannot be edited safely (anchors and aliases, Helm/Go templates,
// unusual encodings or line breaks) still parse, but report why in
// File.NotEditable and refuse edits. Options bound the work done on hostile
// input (file size and node count with aliases expanded).
package yamledit
