// Package finding holds the types every stage of kmend's pipeline speaks:
// Finding, ObjectRef, Severity, Reason and Fixability. It has no logic beyond
// parsing, ordering and fingerprinting them, so that check, remediate, score
// and the outputs can share them without depending on each other.
package finding
