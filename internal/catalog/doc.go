// Package catalog loads and validates kmend's remediation catalog: one
// Control per directory (control.yaml, with failing.yaml, fixed.yaml and
// passing.yaml fixtures beside it), embedded from patches/ and extended by
// users' directories in the same format. Validation is strict: unknown
// fields, bad matchers, templates that do not render and duplicate IDs are
// errors that name the file and line. Controls are looked up by their own ID
// or by any foreign ID (Kubescape, Polaris, kube-score, Trivy, Kyverno,
// Checkov, Pod Security Standards).
package catalog
