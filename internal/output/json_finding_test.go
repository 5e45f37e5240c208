package output

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/kmend/kmend/internal/finding"
)

// encodingJSON is how a finding was written before appendFinding: through
// encoding/json, indented as an element of the findings list.
func encodingJSON(t testing.TB, f finding.Finding) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("    ", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(jsonFinding{Finding: f, Fingerprint: f.Fingerprint()}); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// fill sets every field of v (a pointer to a struct), nested structs and
// pointers included, to a non-zero value, so that a field added to
// finding.Finding and not to appendFinding shows.
func fill(v reflect.Value, s string) {
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), s)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i), s+v.Type().Field(i).Name)
		}
	case reflect.String:
		v.SetString(s)
	case reflect.Int:
		v.SetInt(int64(len(s)))
	default:
		panic("fill: teach me " + v.Kind().String())
	}
}

// tricky are strings that encoding/json escapes, or nearly does.
var tricky = []string{
	"", "plain", `quote " and \ backslash`, "new\nline\ttab\rcr\bbs\fff", "\x00\x01\x1f\x7f",
	"html <b>&amp;</b> stays", "non-ASCII: café – ≥ 日本", "line sep \u2028 para sep \u2029",
	"invalid \xff\xfe utf-8", "truncated \xe2\x82", "emoji 🙂", "~/",
}

func TestAppendFindingIsEncodingJSON(t *testing.T) {
	var full finding.Finding
	fill(reflect.ValueOf(&full).Elem(), "x")
	fs := append(richReport().Findings, richReport().Suppressed...)
	fs = append(fs, full, finding.Finding{}, finding.Finding{Severity: 42, Position: finding.Position{Document: -1, Line: -7}})
	for i, s := range tricky {
		f := full
		f.ControlID, f.Title, f.Object.Name, f.Object.UID = s, s, s, s
		f.Container, f.Path, f.Reason, f.Observed, f.Message = s, s, finding.Reason(s), s, s
		f.Fixability, f.ReviewNote, f.Position.File, f.Origin, f.ForeignID = finding.Fixability(s), s, s, s, s
		f.Suppression = &finding.Suppression{Annotation: s, Justification: tricky[(i+1)%len(tricky)]}
		fs = append(fs, f)
	}
	for i, f := range fs {
		want := encodingJSON(t, f)
		if got := string(appendFinding(nil, &f)); got != want {
			t.Errorf("finding %d:\n%s", i, lineDiff(want, got))
		}
	}
}

// TestFindingJSONIsMarshalIndent: a FindingJSON that escapes HTML and
// writes no fingerprint gives json.MarshalIndent's bytes, at any depth.
func TestFindingJSONIsMarshalIndent(t *testing.T) {
	var full finding.Finding
	fill(reflect.ValueOf(&full).Elem(), "x")
	fs := append(richReport().Findings, full, finding.Finding{})
	for _, s := range tricky {
		f := full
		f.ControlID, f.Title, f.Object.Name, f.Path, f.Message, f.Position.File = s, s, s, s, s, s
		f.Suppression = &finding.Suppression{Annotation: s, Justification: s}
		fs = append(fs, f)
	}
	for _, indent := range []string{"", "      "} {
		w := NewFindingJSON(indent, false, true)
		for i, f := range fs {
			want, err := json.MarshalIndent(f, indent, "  ")
			if err != nil {
				t.Fatal(err)
			}
			if got := string(w.Append(nil, &f)); got != string(want) {
				t.Errorf("indent %q, finding %d:\n%s", indent, i, lineDiff(string(want), got))
			}
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range tricky {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		// json.Marshal escapes HTML characters; WriteJSON does not.
		want = bytes.ReplaceAll(want, []byte(`\u003c`), []byte("<"))
		want = bytes.ReplaceAll(want, []byte(`\u003e`), []byte(">"))
		want = bytes.ReplaceAll(want, []byte(`\u0026`), []byte("&"))
		if got := appendJSONString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("appendJSONString(%q) = %s, want x%s", s, got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range tricky {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendJSONString(nil, s)), stdJSONString(t, s, false); got != want {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
		if got, want := string(appendHTMLString(nil, s)), stdJSONString(t, s, true); got != want {
			t.Errorf("appendHTMLString(%q) = %s, want %s", s, got, want)
		}
	})
}

// stdJSONString is s as encoding/json writes it, HTML escaped or not.
func stdJSONString(t *testing.T, s string, html bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// A report whose findings are not sorted is written sorted, and left as it
// was.
func TestWriteJSONSortsUnsortedFindings(t *testing.T) {
	r := bigReport(3)
	want := writeJSON(t, r)
	r.Findings[0], r.Findings[len(r.Findings)-1] = r.Findings[len(r.Findings)-1], r.Findings[0]
	before := append([]finding.Finding(nil), r.Findings...)
	if got := writeJSON(t, r); !bytes.Equal(got, want) {
		t.Errorf("unsorted findings:\n%s", lineDiff(string(want), string(got)))
	}
	if !reflect.DeepEqual(r.Findings, before) {
		t.Error("WriteJSON sorted the report's findings in place")
	}
}

// encodingJSONReport is r as encoding/json writes the normalized report
// (two-space indentation, no HTML escaping): what WriteJSON wrote before it
// stopped using reflection.
func encodingJSONReport(t *testing.T, r *Report) string {
	n := normalize(r)
	jf := func(fs []finding.Finding) []jsonFinding {
		out := []jsonFinding{}
		for _, f := range sortedView(fs) {
			out = append(out, jsonFinding{f, f.Fingerprint()})
		}
		return out
	}
	n.Findings, n.Suppressed = jf(r.Findings), jf(r.Suppressed)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(n); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestWriteJSONIsEncodingJSON: every part of the report is written with
// the bytes encoding/json gives, whatever the strings, numbers and empty
// or missing lists in it.
func TestWriteJSONIsEncodingJSON(t *testing.T) {
	reports := map[string]*Report{"rich": richReport(), "empty": {}}
	for i, s := range tricky {
		r := richReport()
		r.Tool.InformationURI = s
		r.Inputs = append(r.Inputs, s)
		r.Errors = append(r.Errors, InputError{File: s, Line: i, Message: s})
		r.Skipped = append(r.Skipped, Skipped{File: s, Reason: s})
		r.Rules = append(r.Rules, Rule{ID: s, Title: s, Rationale: s, References: []string{s}, Caveats: []string{s, s}, Fix: s, PSS: s, Category: s, HelpURI: s, Severity: finding.Severity(i)})
		r.Summary.BySeverity = map[string]int{s: i}
		r.Summary.Score = []float64{0, 87.5, 100, 1e-7, 33.333333333333336, -0.0, 1e21, 5e-324, 12}[i%9]
		reports["tricky "+s] = r
	}
	for name, r := range reports {
		var got bytes.Buffer
		if err := WriteJSON(&got, r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := encodingJSONReport(t, r); got.String() != want {
			t.Errorf("%s:\n%s", name, lineDiff(want, got.String()))
		}
	}
}
