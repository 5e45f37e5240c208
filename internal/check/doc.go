// Package check evaluates catalog controls on Kubernetes objects and says
// why each one failed: the field is unset (a risky default applies), set to a
// risky value, or inherited from the pod level. It is pure: no I/O, no
// clients, only YAML nodes in and results out.
package check
