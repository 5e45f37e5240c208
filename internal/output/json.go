package output

import (
	"bufio"
	"cmp"
	_ "embed"
	"fmt"
	"io"
	"math"
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
	// Written part by part and finding by finding, with the bytes that
	// json.Encoder with two-space indentation (no HTML escaping) gives for
	// the whole report, without reflection: a report of 100,000 findings
	// never sits in memory as one buffer that is then indented again, and
	// a small scan does not pay for encoding/json's first use (its type
	// encoders, 1–2 ms of a 15 ms run). TestWriteJSONIsEncodingJSON holds
	// the bytes to json.Encoder's.
	n := normalize(r)
	if math.IsNaN(n.Summary.Score) || math.IsInf(n.Summary.Score, 0) {
		return fmt.Errorf("json: unsupported value: summary score %v", n.Summary.Score)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	const in = "\n  " // a top-level member's value
	parts := []struct {
		name   string
		append func(b []byte) []byte
	}{
		{"schema", func(b []byte) []byte { return appendJSONString(b, n.Schema) }},
		{"tool", func(b []byte) []byte { return appendTool(b, n.Tool, in) }},
		{"inputs", func(b []byte) []byte { return appendList(b, n.Inputs, in, appendItemString) }},
		{"summary", func(b []byte) []byte { return appendSummary(b, &n.Summary, in) }},
		{"findings", nil},
		{"suppressed", nil},
		{"errors", func(b []byte) []byte { return appendList(b, n.Errors, in, appendInputError) }},
		{"skipped", func(b []byte) []byte { return appendList(b, n.Skipped, in, appendSkipped) }},
		{"rules", func(b []byte) []byte { return appendList(b, n.Rules, in, appendRule) }},
	}
	bw.WriteString("{\n")
	for i, p := range parts {
		b := append(bw.AvailableBuffer(), "  \""...)
		b = append(b, p.name...)
		b = append(b, "\": "...)
		switch p.name {
		case "findings", "suppressed":
			bw.Write(b)
			fs := r.Findings
			if p.name == "suppressed" {
				fs = r.Suppressed
			}
			writeFindings(bw, sortedView(fs))
			b = bw.AvailableBuffer()
		default:
			b = p.append(b)
		}
		if i < len(parts)-1 {
			b = append(b, ',')
		}
		bw.Write(append(b, '\n'))
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

// appendList appends items as an indented JSON array whose opening bracket
// stands at indentation in (a newline and spaces), each item one level
// deeper; nil is null, as encoding/json writes it.
func appendList[T any](b []byte, items []T, in string, item func(b []byte, v *T, in string) []byte) []byte {
	if items == nil {
		return append(b, "null"...)
	}
	if len(items) == 0 {
		return append(b, "[]"...)
	}
	inner := in + "  "
	b = append(b, '[')
	for i := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, inner...)
		b = item(b, &items[i], inner)
	}
	b = append(b, in...)
	return append(b, ']')
}

func appendItemString(b []byte, s *string, _ string) []byte { return appendJSONString(b, *s) }

func appendTool(b []byte, t Tool, in string) []byte {
	o := jsonObject{b: append(b, '{'), indent: in + "  "}
	o.str("name", t.Name)
	o.str("version", t.Version)
	o.strOmit("informationUri", t.InformationURI)
	return o.close(in)
}

func appendInputError(b []byte, e *InputError, in string) []byte {
	o := jsonObject{b: append(b, '{'), indent: in + "  "}
	o.str("file", e.File)
	if e.Line != 0 {
		o.int("line", e.Line)
	}
	o.str("message", e.Message)
	return o.close(in)
}

func appendSkipped(b []byte, s *Skipped, in string) []byte {
	o := jsonObject{b: append(b, '{'), indent: in + "  "}
	o.str("file", s.File)
	o.str("reason", s.Reason)
	return o.close(in)
}

func appendRule(b []byte, r *Rule, in string) []byte {
	o := jsonObject{b: append(b, '{'), indent: in + "  "}
	o.str("id", r.ID)
	o.str("name", r.Name)
	o.str("title", r.Title)
	o.str("severity", r.Severity.String())
	o.str("rationale", r.Rationale)
	o.key("references")
	o.b = appendList(o.b, r.References, in+"  ", appendItemString)
	o.str("fixability", string(r.Fixability))
	o.strOmit("pss", r.PSS)
	o.strOmit("category", r.Category)
	o.strOmit("helpUri", r.HelpURI)
	o.strOmit("fix", r.Fix)
	if len(r.Caveats) > 0 {
		o.key("caveats")
		o.b = appendList(o.b, r.Caveats, in+"  ", appendItemString)
	}
	return o.close(in)
}

func appendSummary(b []byte, s *Summary, in string) []byte {
	o := jsonObject{b: append(b, '{'), indent: in + "  "}
	o.int("files", s.Files)
	o.int("objects", s.Objects)
	o.int("findings", s.Findings)
	o.int("suppressed", s.Suppressed)
	o.int("errors", s.Errors)
	o.key("bySeverity")
	o.b = appendCounts(o.b, s.BySeverity, in+"  ")
	o.key("byReason")
	o.b = appendCounts(o.b, s.ByReason, in+"  ")
	o.key("fixable")
	o.b = appendCounts(o.b, s.Fixable, in+"  ")
	o.key("score")
	o.b = appendFloat(o.b, s.Score)
	return o.close(in)
}

// appendCounts appends a map of counts with its keys sorted, as
// encoding/json writes a map with string keys.
func appendCounts[K ~string](b []byte, m map[K]int, in string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	o := jsonObject{b: append(b, '{'), indent: in + "  "}
	for _, k := range keys {
		o.int(string(k), m[k])
	}
	return o.close(in)
}

// appendFloat appends f as encoding/json writes a float64 (finite).
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 → e-9, as encoding/json does
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
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
	o.b = appendJSONString(o.b, k)
	o.b = append(o.b, ": "...)
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
// nothing to escape, nearly all of them, are copied as they are.
func appendJSONString(b []byte, s string) []byte {
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' {
			return appendEscaped(b, s, false)
		}
		ascii = ascii && c < utf8.RuneSelf
	}
	if !ascii && (!utf8.ValidString(s) || strings.ContainsAny(s, "\u2028\u2029")) {
		return appendEscaped(b, s, false)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendHTMLString appends s as json.Marshal writes it, HTML escaped.
func appendHTMLString(b []byte, s string) []byte { return appendEscaped(b, s, true) }

// appendEscaped appends s as a JSON string escaped as encoding/json escapes
// it (its appendString): quote, backslash and control characters, invalid
// UTF-8 as U+FFFD, U+2028 and U+2029, and with html also <, > and &.
// FuzzAppendJSONString holds it to encoding/json.
func appendEscaped(b []byte, s string, html bool) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!html || (c != '<' && c != '>' && c != '&')) {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
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
