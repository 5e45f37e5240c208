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
	"strconv"
	"strings"
	"unicode/utf8"

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
	// Findings, by far the largest part, are written by appendFinding
	// without reflection or a second pass; the rest goes through
	// encoding/json.
	n := normalize(r)
	bw := bufio.NewWriterSize(w, 1<<16)
	fields := []struct {
		name string
		v    any
	}{
		{"schema", n.Schema},
		{"tool", n.Tool},
		{"inputs", n.Inputs},
		{"summary", n.Summary},
		{"findings", sortedView(r.Findings)},
		{"suppressed", sortedView(r.Suppressed)},
		{"errors", n.Errors},
		{"skipped", n.Skipped},
		{"rules", n.Rules},
	}
	bw.WriteString("{\n")
	for i, f := range fields {
		fmt.Fprintf(bw, "  %q: ", f.name)
		if fs, ok := f.v.([]finding.Finding); ok {
			writeFindings(bw, fs)
		} else if err := writeValue(bw, f.v, "  "); err != nil {
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

// writeValue writes v with encoding/json, indented as it would stand at
// prefix's depth.
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

// writeFindings writes a JSON array of findings, each with its
// fingerprint, one at a time.
func writeFindings(w *bufio.Writer, fs []finding.Finding) {
	if len(fs) == 0 {
		w.WriteString("[]")
		return
	}
	w.WriteString("[\n")
	for i := range fs {
		// Appended to the writer's free space, so that a finding that
		// fits is copied once.
		b := append(w.AvailableBuffer(), "    "...)
		b = appendFinding(b, &fs[i])
		if i < len(fs)-1 {
			b = append(b, ',')
		}
		w.Write(append(b, '\n'))
	}
	w.WriteString("  ]")
}

// reportFinding is how the report writes a finding: at depth 2, with its
// fingerprint, without escaping HTML characters.
var reportFinding = NewFindingJSON("    ", true, false)

// appendFinding appends f as the element of a list at depth 2 of the
// report: the bytes json.Encoder gives for jsonFinding{f, f.Fingerprint()}
// with prefix "    " and indent "  ", without escaping HTML characters.
// TestAppendFindingIsEncodingJSON holds it to that, for every field.
func appendFinding(b []byte, f *finding.Finding) []byte { return reportFinding.Append(b, f) }

// FindingJSON writes findings as encoding/json writes a finding.Finding
// that stands in an indented document, without reflection: a large
// report's findings are most of its bytes and of its writing time.
type FindingJSON struct {
	in0, in1, in2 string // newline and indentation of the closing brace, members, nested members
	fingerprint   bool
	escapeHTML    bool
}

// NewFindingJSON returns the writer of a finding whose opening brace
// stands on a line indented by indent, in a document indented by two
// spaces a level: the bytes json.MarshalIndent (escapeHTML) or a
// json.Encoder with SetEscapeHTML(false) give. With fingerprint, a last
// member "fingerprint" holds f.Fingerprint(), as the report writes it.
func NewFindingJSON(indent string, fingerprint, escapeHTML bool) *FindingJSON {
	return &FindingJSON{in0: "\n" + indent, in1: "\n" + indent + "  ", in2: "\n" + indent + "    ",
		fingerprint: fingerprint, escapeHTML: escapeHTML}
}

// Append appends f.
func (w *FindingJSON) Append(b []byte, f *finding.Finding) []byte {
	in1, in2 := w.in1, w.in2
	o := jsonObject{b: append(b, '{'), indent: in1, html: w.escapeHTML}
	o.str("control", f.ControlID)
	o.str("title", f.Title)
	o.str("severity", f.Severity.String())

	o.key("object")
	obj := jsonObject{b: append(o.b, '{'), indent: in2, html: w.escapeHTML}
	obj.strOmit("cluster", f.Object.Cluster)
	obj.str("apiVersion", f.Object.APIVersion)
	obj.str("kind", f.Object.Kind)
	obj.strOmit("namespace", f.Object.Namespace)
	obj.str("name", f.Object.Name)
	obj.strOmit("uid", f.Object.UID)
	o.b = obj.close(in1)

	o.strOmit("container", f.Container)
	o.strOmit("containerType", f.ContainerType)
	o.str("path", f.Path)
	o.str("reason", string(f.Reason))
	o.strOmit("observed", f.Observed)
	o.str("message", f.Message)
	o.str("fixability", string(f.Fixability))
	o.strOmit("reviewNote", f.ReviewNote)

	o.key("position")
	pos := jsonObject{b: append(o.b, '{'), indent: in2, html: w.escapeHTML}
	pos.strOmit("file", f.Position.File)
	pos.int("document", f.Position.Document)
	if f.Position.Line != 0 {
		pos.int("line", f.Position.Line)
	}
	o.b = pos.close(in1)

	o.str("origin", f.Origin)
	o.strOmit("foreignID", f.ForeignID)
	if s := f.Suppression; s != nil {
		o.key("suppression")
		sup := jsonObject{b: append(o.b, '{'), indent: in2, html: w.escapeHTML}
		sup.str("annotation", s.Annotation)
		sup.strOmit("justification", s.Justification)
		o.b = sup.close(in1)
	}
	if w.fingerprint {
		o.str("fingerprint", f.Fingerprint())
	}
	return o.close(w.in0)
}

// jsonObject appends the members of an indented JSON object whose opening
// brace is written; indent is a newline and the members' indentation.
type jsonObject struct {
	b      []byte
	indent string
	n      int
	html   bool // escape <, > and & as encoding/json's Marshal does
}

// key starts a member.
func (o *jsonObject) key(k string) {
	if o.n > 0 {
		o.b = append(o.b, ',')
	}
	o.n++
	o.b = append(o.b, o.indent...)
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, `": `...)
}

func (o *jsonObject) str(k, v string) {
	o.key(k)
	if o.html && strings.ContainsAny(v, "<>&") {
		o.b = appendHTMLString(o.b, v)
		return
	}
	o.b = appendJSONString(o.b, v)
}

// strOmit writes a string member unless it is empty (omitempty).
func (o *jsonObject) strOmit(k, v string) {
	if v != "" {
		o.str(k, v)
	}
}

func (o *jsonObject) int(k string, v int) {
	o.key(k)
	o.b = strconv.AppendInt(o.b, int64(v), 10)
}

// close ends the object; indent is a newline and the indentation of the
// closing brace.
func (o *jsonObject) close(indent string) []byte {
	if o.n > 0 {
		o.b = append(o.b, indent...)
	}
	return append(o.b, '}')
}

// appendJSONString appends s as a JSON string, as encoding/json writes it
// without HTML escaping. Strings of printable ASCII or valid UTF-8 with
// nothing to escape, nearly all of them, are copied as they are; the others
// go through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' {
			return appendEncodedString(b, s)
		}
		ascii = ascii && c < utf8.RuneSelf
	}
	if !ascii && (!utf8.ValidString(s) || strings.ContainsAny(s, "\u2028\u2029")) {
		return appendEncodedString(b, s)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendEncodedString appends s as encoding/json writes it, without HTML
// escaping.
func appendEncodedString(b []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err) // a string always encodes
	}
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

// appendHTMLString appends s as json.Marshal writes it, HTML escaped.
func appendHTMLString(b []byte, s string) []byte {
	j, err := json.Marshal(s)
	if err != nil {
		panic(err) // a string always encodes
	}
	return append(b, j...)
}

// sortedView returns fs when it is sorted already (as scan's reports are),
// else a sorted copy; never nil.
func sortedView(fs []finding.Finding) []finding.Finding {
	if fs != nil && finding.IsSorted(fs) {
		return fs
	}
	return sortedFindings(fs)
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

// normalize returns r as written, but for its findings and suppressed
// findings, which WriteJSON takes from r (see sortedView).
func normalize(r *Report) *jsonReport {
	out := &jsonReport{
		Schema:  cmp.Or(r.Schema, SchemaVersion),
		Tool:    r.Tool,
		Inputs:  sortedCopy(r.Inputs, cmp.Compare[string]),
		Summary: r.Summary,
		Errors:  sortedCopy(r.Errors, compareErrors),
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
