// Package score computes kmend's posture score and the risk order of
// findings. The score is documented in docs/score.md: the share of
// severity-weighted (object, control) pairs that pass, per file set,
// namespace and app. Risk multiplies a finding's severity weight by its
// object's exposure: privileged or host access, a Service or Ingress that
// exposes it, and weak image provenance.
package score
