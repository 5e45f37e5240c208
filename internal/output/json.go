package output

import (
	"bufio"
	"bytes"
	"cmp"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/kmend/kmend/internal/finding"
)

//go:embed schema/report.v1.json
var reportSchema []byte

// ReportSchemaID is the $id of the JSON Schema of the report format.
const ReportSchemaID = "https://kmend.dev/schemas/report/v1.json"

// JSONSchema returns the JSON Schema (draft 2020-12) that WriteJSON's output
// conforms to. The caller may modify the returned bytes.
func JSONSchema() []byte { return slices.Clone(reportSchema) }

// WriteJSON writes r as indented JSON in the format described by
// docs/json-schema.md and JSONSchema. The output is stable: findings,
// suppressed findings, errors, skipped inputs, rules and inputs are sorted,
// every summary map carries all of its keys (zero counts included), and
// empty lists are written as [] rather than null. r is not modified.
func WriteJSON(w io.Writer, r *Report) error {
	// Written field by field and finding by finding, with the same bytes
	// json.Encoder's indentation gives, so a report of 100,000 findings
	// never sits in memory as one buffer that is then indented again.
	n := normalize(r)
	bw := bufio.NewWriterSize(w, 1<<16)
	fields := []struct {
		name string
		v    any
		list []any
	}{
		{name: "schema", v: n.Schema},
		{name: "tool", v: n.Tool},
		{name: "inputs", v: n.Inputs},
		{name: "summary", v: n.Summary},
		{name: "findings", list: anys(n.Findings)},
		{name: "suppressed", list: anys(n.Suppressed)},
		{name: "errors", v: n.Errors},
		{name: "skipped", v: n.Skipped},
		{name: "rules", v: n.Rules},
	}
	bw.WriteString("{\n")
	for i, f := range fields {
		fmt.Fprintf(bw, "  %q: ", f.name)
		var err error
		if f.list != nil {
			err = writeList(bw, f.list)
		} else {
			err = writeValue(bw, f.v, "  ")
		}
		if err != nil {
			return err
		}
		if i < len(fields)-1 {
			bw.WriteString(",")
		}
		bw.WriteString("\n")
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i := range xs {
		out[i] = xs[i]
	}
	return out
}

// writeValue writes v indented as it would stand at prefix's depth.
func writeValue(w *bufio.Writer, v any, prefix string) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent(prefix, "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	w.Write(bytes.TrimRight(b.Bytes(), "\n"))
	return nil
}

// writeList writes a JSON array one element at a time.
func writeList(w *bufio.Writer, xs []any) error {
	if len(xs) == 0 {
		w.WriteString("[]")
		return nil
	}
	w.WriteString("[\n")
	for i, x := range xs {
		w.WriteString("    ")
		if err := writeValue(w, x, "    "); err != nil {
			return err
		}
		if i < len(xs)-1 {
			w.WriteString(",")
		}
		w.WriteString("\n")
	}
	w.WriteString("  ]")
	return nil
}

// jsonReport is Report as written: the same fields, with each finding's
// fingerprint added.
type jsonReport struct {
	Schema     string        `json:"schema"`
	Tool       Tool          `json:"tool"`
	Inputs     []string      `json:"inputs"`
	Summary    Summary       `json:"summary"`
	Findings   []jsonFinding `json:"findings"`
	Suppressed []jsonFinding `json:"suppressed"`
	Errors     []InputError  `json:"errors"`
	Skipped    []Skipped     `json:"skipped"`
	Rules      []Rule        `json:"rules"`
}

type jsonFinding struct {
	finding.Finding
	// Fingerprint is Finding.Fingerprint(): stable when lines move.
	Fingerprint string `json:"fingerprint"`
}

// Every key the summary maps always carry.
var (
	allSeverities   = []finding.Severity{finding.SeverityInfo, finding.SeverityLow, finding.SeverityMedium, finding.SeverityHigh, finding.SeverityCritical}
	allReasons      = []finding.Reason{finding.ReasonUnset, finding.ReasonRisky, finding.ReasonInherited, finding.ReasonReported}
	allFixabilities = []finding.Fixability{finding.FixAuto, finding.FixReview, finding.FixManual}
)

func normalize(r *Report) *jsonReport {
	out := &jsonReport{
		Schema:     cmp.Or(r.Schema, SchemaVersion),
		Tool:       r.Tool,
		Inputs:     sortedCopy(r.Inputs, cmp.Compare[string]),
		Summary:    r.Summary,
		Findings:   jsonFindings(r.Findings),
		Suppressed: jsonFindings(r.Suppressed),
		Errors:     sortedCopy(r.Errors, compareErrors),
		Skipped: sortedCopy(r.Skipped, func(a, b Skipped) int {
			return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Reason, b.Reason))
		}),
		Rules: sortedCopy(r.Rules, func(a, b Rule) int { return cmp.Compare(a.ID, b.ID) }),
	}
	out.Tool.Name = cmp.Or(out.Tool.Name, "kmend")
	for i := range out.Rules {
		if out.Rules[i].References == nil {
			out.Rules[i].References = []string{}
		}
	}
	s := &out.Summary
	s.BySeverity = withKeys(s.BySeverity, allSeverities, finding.Severity.String)
	s.ByReason = withKeys(s.ByReason, allReasons, func(r finding.Reason) finding.Reason { return r })
	s.Fixable = withKeys(s.Fixable, allFixabilities, func(f finding.Fixability) finding.Fixability { return f })
	return out
}

func jsonFindings(fs []finding.Finding) []jsonFinding {
	sorted := sortedFindings(fs)
	out := make([]jsonFinding, len(sorted))
	for i, f := range sorted {
		out[i] = jsonFinding{Finding: f, Fingerprint: f.Fingerprint()}
	}
	return out
}

// sortedFindings returns a sorted copy of fs, never nil.
func sortedFindings(fs []finding.Finding) []finding.Finding {
	out := make([]finding.Finding, len(fs))
	copy(out, fs)
	finding.Sort(out)
	return out
}

func compareErrors(a, b InputError) int {
	return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Message, b.Message))
}

// sortedCopy returns a sorted copy of s, never nil.
func sortedCopy[T any](s []T, less func(a, b T) int) []T {
	out := make([]T, len(s))
	copy(out, s)
	slices.SortStableFunc(out, less)
	return out
}

// withKeys returns a copy of m holding every key of keys (0 when absent).
func withKeys[K comparable, E any](m map[K]int, keys []E, key func(E) K) map[K]int {
	out := make(map[K]int, len(m)+len(keys))
	for k, v := range m {
		out[k] = v
	}
	for _, e := range keys {
		k := key(e)
		if _, ok := out[k]; !ok {
			out[k] = 0
		}
	}
	return out
}
