package output

import (
	"github.com/kmend/kmend/internal/finding"
)

// SchemaVersion is the version of kmend's JSON report format. It changes
// only when a field is removed or its meaning changes; new fields may be
// added within a version. See docs/json-schema.md.
const SchemaVersion = "kmend.dev/report/v1"

// Report is what `kmend scan` reports, in every format.
type Report struct {
	Schema  string   `json:"schema"`
	Tool    Tool     `json:"tool"`
	Inputs  []string `json:"inputs"`
	Summary Summary  `json:"summary"`
	// Findings are sorted by file, line, object, container and control.
	Findings []finding.Finding `json:"findings"`
	// Suppressed are findings exempted by an annotation.
	Suppressed []finding.Finding `json:"suppressed"`
	// Errors are inputs that could not be read (file and line in the text).
	Errors []InputError `json:"errors"`
	// Skipped are inputs left aside on purpose (Helm templates, …).
	Skipped []Skipped `json:"skipped"`
	// Rules are the controls that were evaluated, for SARIF and for tools
	// that want the catalog's text.
	Rules []Rule `json:"rules"`
}

// Tool names kmend and its version.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// InformationURI is where to read about the tool; SARIF's
	// tool.driver.informationUri. Empty means DefaultInformationURI.
	InformationURI string `json:"informationUri,omitempty"`
}

// Summary counts.
type Summary struct {
	Files      int                        `json:"files"`
	Objects    int                        `json:"objects"`
	Findings   int                        `json:"findings"`
	Suppressed int                        `json:"suppressed"`
	Errors     int                        `json:"errors"`
	BySeverity map[string]int             `json:"bySeverity"`
	ByReason   map[finding.Reason]int     `json:"byReason"`
	Fixable    map[finding.Fixability]int `json:"fixable"`
	// Score is the posture score of the inputs, 0–100 (see docs/score.md).
	Score float64 `json:"score"`
}

// InputError is an input that could not be read.
type InputError struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// Skipped is an input left aside on purpose.
type Skipped struct {
	File   string `json:"file"`
	Reason string `json:"reason"`
}

// Rule describes a control for reports.
type Rule struct {
	ID         string             `json:"id"`
	Name       string             `json:"name"`
	Title      string             `json:"title"`
	Severity   finding.Severity   `json:"severity"`
	Rationale  string             `json:"rationale"`
	References []string           `json:"references"`
	Fixability finding.Fixability `json:"fixability"`
	PSS        string             `json:"pss,omitempty"`
	// Category groups controls (pod-security, resources, …).
	Category string `json:"category,omitempty"`
	// HelpURI is where the control is documented; SARIF's helpUri. Empty
	// means the first reference.
	HelpURI string `json:"helpUri,omitempty"`
	// Fix is the catalog's strategic-merge patch (a template, relative to the
	// level it applies at), shown as the suggested change.
	Fix string `json:"fix,omitempty"`
	// Caveats are what a fix may break.
	Caveats []string `json:"caveats,omitempty"`
}
