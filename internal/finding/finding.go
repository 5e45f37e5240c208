package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Severity orders how much a failed control matters. The zero value is
// SeverityUnknown so that a forgotten field is visible.
type Severity int

// Severities, lowest first.
const (
	SeverityUnknown Severity = iota
	SeverityInfo
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"unknown", "info", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name, case-insensitively.
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if i > 0 && strings.EqualFold(s, n) {
			return Severity(i), nil
		}
	}
	return SeverityUnknown, fmt.Errorf("unknown severity %q (want one of info, low, medium, high, critical)", s)
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Reason says why a control failed.
type Reason string

// Reasons.
const (
	// ReasonUnset: the field is absent at every level where it can be set, so
	// a risky default applies.
	ReasonUnset Reason = "unset"
	// ReasonRisky: the field is set, at the level reported, to a risky value.
	ReasonRisky Reason = "risky"
	// ReasonInherited: the container does not set the field, and the
	// pod-level value decides (and is risky).
	ReasonInherited Reason = "inherited"
	// ReasonReported: another scanner reported the failure; kmend did not
	// re-derive it.
	ReasonReported Reason = "reported"
)

// Fixability says how far a fix may go without a human.
type Fixability string

// Fixabilities.
const (
	// FixAuto: safe to apply unattended.
	FixAuto Fixability = "auto"
	// FixReview: kmend can write the fix, but a human must confirm a value
	// or a consequence (resource sizes, a deliberate setting).
	FixReview Fixability = "review"
	// FixManual: kmend explains and suggests a patch, never applies it.
	FixManual Fixability = "manual"
)

// Valid reports whether f is one of the known fixabilities.
func (f Fixability) Valid() bool { return f == FixAuto || f == FixReview || f == FixManual }

// ObjectRef names a Kubernetes object.
type ObjectRef struct {
	Cluster    string `json:"cluster,omitempty"`
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	UID        string `json:"uid,omitempty"`
}

func (o ObjectRef) String() string {
	if o.Namespace == "" {
		return o.Kind + "/" + o.Name
	}
	return o.Kind + "/" + o.Namespace + "/" + o.Name
}

// Position is where an object or a field was read from, when it came from a
// file. Line is 1-based; Document is the 0-based index of the YAML document.
type Position struct {
	File     string `json:"file,omitempty"`
	Document int    `json:"document"`
	Line     int    `json:"line,omitempty"`
}

// Finding is one failed control on one object (and container, for
// container-level controls).
type Finding struct {
	ControlID string    `json:"control"`
	Title     string    `json:"title"`
	Severity  Severity  `json:"severity"`
	Object    ObjectRef `json:"object"`
	// Container is the container's name for container-level controls;
	// ContainerType is containers, initContainers or ephemeralContainers.
	Container     string `json:"container,omitempty"`
	ContainerType string `json:"containerType,omitempty"`
	// Path is the field path in the object, e.g.
	// spec.template.spec.containers[0].securityContext.privileged.
	Path string `json:"path"`
	// Reason and Observed say why: Observed is the value found (empty when
	// the reason is unset).
	Reason   Reason `json:"reason"`
	Observed string `json:"observed,omitempty"`
	// Message is the control's why-text for this reason, filled in.
	Message    string     `json:"message"`
	Fixability Fixability `json:"fixability"`
	// ReviewNote says why a fix that could be automatic needs a human (for
	// example, the risky value carries a comment saying it is deliberate).
	ReviewNote string `json:"reviewNote,omitempty"`
	// Where the object was read; Line points at the failing field when it
	// exists, else at the object.
	Position Position `json:"position"`
	// Origin is "kmend" for kmend's own checks, else the scanner that
	// reported it; ForeignID is that scanner's ID for the control.
	Origin    string `json:"origin"`
	ForeignID string `json:"foreignID,omitempty"`
	// Suppression is set when an annotation exempts the object from the
	// control; suppressed findings are counted but not failed on.
	Suppression *Suppression `json:"suppression,omitempty"`
}

// Suppression records who exempted a finding and why.
type Suppression struct {
	// Annotation is the annotation that exempts, e.g.
	// exempt.kmend.dev/KM-002 or polaris.fairwinds.com/exempt.
	Annotation    string `json:"annotation"`
	Justification string `json:"justification,omitempty"`
}

// Fingerprint is a stable identity for the finding: it does not change when
// lines move, so a PR or a history can recognise the same finding again.
//
// It is the first 16 hex digits of the SHA-256 of the control, the object's
// cluster, apiVersion, kind, namespace and name, the container type, the
// container and the path, each followed by a zero byte.
func (f Finding) Fingerprint() string {
	var buf [256]byte
	b := buf[:0]
	for _, s := range [...]string{f.ControlID, f.Object.Cluster, f.Object.APIVersion, f.Object.Kind,
		f.Object.Namespace, f.Object.Name, f.ContainerType, f.Container, f.Path} {
		b = append(b, s...)
		b = append(b, 0)
	}
	sum := sha256.Sum256(b)
	var out [16]byte
	hex.Encode(out[:], sum[:len(out)/2])
	return string(out[:])
}

// JoinPath joins two parts of a field path with a dot, either may be empty.
func JoinPath(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "." + b
}
