// Package remediate is kmend's core: it turns findings into verified edits.
// For each file it applies the selected controls' fixes to a copy of each
// object with kyaml's merge2, verifies every fix (the control passes, the
// strategic-merge patch and the RFC 6902 ops give exactly the edited object,
// no other control starts failing), splices the accepted edits back into the
// original bytes with yamledit, re-parses and re-checks the result. A fix
// that fails any step is dropped and reported; it is never written.
package remediate
