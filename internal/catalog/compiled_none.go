//go:build kmend_nocatalog

package catalog

// compiled is empty when the package is built without CompiledFile
// (-tags kmend_nocatalog), as hack/catalogc is.
var compiled []*Control
