package output

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/kmend/kmend/internal/finding"
)

func writeJSON(t *testing.T, r *Report) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestWriteJSONGolden(t *testing.T) {
	golden(t, "report.json.golden", writeJSON(t, richReport()))
}

func TestWriteJSONMatchesSchema(t *testing.T) {
	sch := compileSchema(t, ReportSchemaID, JSONSchema())
	for name, r := range map[string]*Report{"rich": richReport(), "empty": {}} {
		out := writeJSON(t, r)
		if err := validate(t, sch, out); err != nil {
			t.Errorf("%s report does not match schema/report.v1.json:\n%v", name, err)
		}
	}
}

// The published schema lets consumers meet fields added later; this test
// closes every object so that a field WriteJSON writes but the schema does
// not describe fails.
func TestWriteJSONFieldsAreAllInSchema(t *testing.T) {
	var doc any
	if err := json.Unmarshal(JSONSchema(), &doc); err != nil {
		t.Fatal(err)
	}
	closeObjects(doc)
	strict, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	sch := compileSchema(t, "https://kmend.dev/schemas/report/v1-strict.json", strict)
	if err := validate(t, sch, writeJSON(t, richReport())); err != nil {
		t.Errorf("WriteJSON writes fields the schema does not describe:\n%v", err)
	}
}

// closeObjects sets additionalProperties false on every schema object that
// lists properties and says nothing of others.
func closeObjects(v any) {
	switch v := v.(type) {
	case map[string]any:
		if _, ok := v["properties"]; ok {
			if _, ok := v["additionalProperties"]; !ok {
				v["additionalProperties"] = false
			}
		}
		for _, e := range v {
			closeObjects(e)
		}
	case []any:
		for _, e := range v {
			closeObjects(e)
		}
	}
}

// The schema must be able to say no.
func TestSchemaRejectsBadReports(t *testing.T) {
	sch := compileSchema(t, ReportSchemaID, JSONSchema())
	good := writeJSON(t, richReport())
	for name, edit := range map[string]func(m map[string]any){
		"wrong schema":      func(m map[string]any) { m["schema"] = "kmend.dev/report/v2" },
		"null findings":     func(m map[string]any) { m["findings"] = nil },
		"missing rules":     func(m map[string]any) { delete(m, "rules") },
		"bad severity":      func(m map[string]any) { finding0(m)["severity"] = "severe" },
		"bad reason":        func(m map[string]any) { finding0(m)["reason"] = "because" },
		"line 0":            func(m map[string]any) { finding0(m)["position"].(map[string]any)["line"] = 0 },
		"short fingerprint": func(m map[string]any) { finding0(m)["fingerprint"] = "abc" },
		"no fixability":     func(m map[string]any) { delete(finding0(m), "fixability") },
		"score above 100":   func(m map[string]any) { m["summary"].(map[string]any)["score"] = 101 },
		"missing by-reason": func(m map[string]any) {
			delete(m["summary"].(map[string]any)["byReason"].(map[string]any), "inherited")
		},
		"unsuppressed in suppressed": func(m map[string]any) {
			delete(m["suppressed"].([]any)[0].(map[string]any), "suppression")
		},
	} {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		bad, _ := json.Marshal(m)
		if err := validate(t, sch, bad); err == nil {
			t.Errorf("%s: the schema accepts it", name)
		}
	}
}

func finding0(m map[string]any) map[string]any {
	return m["findings"].([]any)[0].(map[string]any)
}

func TestWriteJSONEmptyListsAndMaps(t *testing.T) {
	out := string(writeJSON(t, &Report{}))
	if strings.Contains(out, "null") {
		t.Errorf("empty report has null:\n%s", out)
	}
	for _, want := range []string{
		`"schema": "kmend.dev/report/v1"`, `"name": "kmend"`,
		`"inputs": []`, `"findings": []`, `"suppressed": []`, `"errors": []`, `"skipped": []`, `"rules": []`,
		`"critical": 0`, `"inherited": 0`, `"review": 0`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("empty report lacks %s:\n%s", want, out)
		}
	}
	// A rule without references still has the list.
	out = string(writeJSON(t, &Report{Rules: []Rule{{ID: "KM-999", Severity: finding.SeverityLow, Fixability: finding.FixAuto}}}))
	if !strings.Contains(out, `"references": []`) {
		t.Errorf("rule without references:\n%s", out)
	}
}

func TestWriteJSONIsStableAndLeavesReportAlone(t *testing.T) {
	r := richReport()
	before := writeJSON(t, richReport())

	shuffled := richReport()
	slices.Reverse(shuffled.Findings)
	slices.Reverse(shuffled.Suppressed)
	slices.Reverse(shuffled.Errors)
	slices.Reverse(shuffled.Rules)
	slices.Reverse(shuffled.Inputs)
	if got := writeJSON(t, shuffled); !bytes.Equal(got, before) {
		t.Errorf("output depends on input order:\n%s", lineDiff(string(before), string(got)))
	}

	pristine := richReport()
	writeJSON(t, r)
	if !reflect.DeepEqual(r, pristine) {
		t.Error("WriteJSON modified the report")
	}
}

func TestWriteJSONFields(t *testing.T) {
	var got struct {
		Findings []struct {
			Control     string            `json:"control"`
			Severity    string            `json:"severity"`
			Fingerprint string            `json:"fingerprint"`
			Position    finding.Position  `json:"position"`
			Object      finding.ObjectRef `json:"object"`
		} `json:"findings"`
		Summary struct {
			BySeverity map[string]int `json:"bySeverity"`
		} `json:"summary"`
	}
	r := richReport()
	if err := json.Unmarshal(writeJSON(t, r), &got); err != nil {
		t.Fatal(err)
	}
	want := sortedFindings(r.Findings)
	if len(got.Findings) != len(want) {
		t.Fatalf("%d findings, want %d", len(got.Findings), len(want))
	}
	for i, f := range got.Findings {
		if f.Control != want[i].ControlID || f.Fingerprint != want[i].Fingerprint() || f.Severity != want[i].Severity.String() {
			t.Errorf("finding %d = %+v, want %s %s", i, f, want[i].ControlID, want[i].Fingerprint())
		}
	}
	if got.Summary.BySeverity["critical"] != 2 || got.Summary.BySeverity["info"] != 1 {
		t.Errorf("bySeverity = %v", got.Summary.BySeverity)
	}
	// No HTML escaping: messages read as written.
	if out := string(writeJSON(t, r)); !strings.Contains(out, "latest & <can> change") {
		t.Error("WriteJSON escapes HTML characters")
	}
}

func TestSchemaFileIsEmbedded(t *testing.T) {
	onDisk, err := os.ReadFile("schema/report.v1.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, JSONSchema()) {
		t.Error("JSONSchema() differs from schema/report.v1.json")
	}
	var doc struct {
		Schema string `json:"$schema"`
		ID     string `json:"$id"`
	}
	if err := json.Unmarshal(onDisk, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "https://json-schema.org/draft/2020-12/schema" || doc.ID != ReportSchemaID {
		t.Errorf("$schema %q, $id %q", doc.Schema, doc.ID)
	}
}

// Every property the schema names is documented in docs/json-schema.md.
func TestSchemaPropertiesAreDocumented(t *testing.T) {
	docs, err := os.ReadFile("../../docs/json-schema.md")
	if err != nil {
		t.Fatal(err)
	}
	var schema any
	if err := json.Unmarshal(JSONSchema(), &schema); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if props, ok := v["properties"].(map[string]any); ok {
				for k := range props {
					names[k] = true
				}
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(schema)
	var missing []string
	for n := range names {
		if !bytes.Contains(docs, []byte("`"+n+"`")) {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("docs/json-schema.md does not document %v", missing)
	}
}

// The example in docs/json-schema.md is a valid report.
func TestDocsExampleMatchesSchema(t *testing.T) {
	docs, err := os.ReadFile("../../docs/json-schema.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(docs), "```json\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/json-schema.md has no ```json example")
	}
	sch := compileSchema(t, ReportSchemaID, JSONSchema())
	if err := validate(t, sch, []byte(example)); err != nil {
		t.Errorf("the example in docs/json-schema.md does not match the schema:\n%v", err)
	}
	var r jsonReport
	if err := json.Unmarshal([]byte(example), &r); err != nil {
		t.Fatal(err)
	}
	for _, f := range slices.Concat(r.Findings, r.Suppressed) {
		if f.Fingerprint != f.Finding.Fingerprint() {
			t.Errorf("example %s: fingerprint %s, want %s", f.ControlID, f.Fingerprint, f.Finding.Fingerprint())
		}
	}
}
