// Package patches embeds kmend's built-in remediation catalog: one directory
// per control, holding control.yaml and its fixtures (failing.yaml,
// fixed.yaml, passing.yaml). See docs/catalog.md for the format.
package patches

import "embed"

// FS holds every control directory.
//
//go:embed */*.yaml
var FS embed.FS
