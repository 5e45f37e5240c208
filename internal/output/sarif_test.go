package output

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kmend/kmend/internal/finding"
)

func writeSARIF(t *testing.T, r *Report) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteSARIF(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sarifSchema(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWriteSARIFGolden(t *testing.T) {
	golden(t, "report.sarif.golden", writeSARIF(t, richReport()))
}

func TestWriteSARIFMatchesOASISSchema(t *testing.T) {
	sch := compileSchema(t, SARIFSchemaURI, sarifSchema(t))
	clean := richReport()
	clean.Errors, clean.Skipped = nil, nil
	for name, r := range map[string]*Report{"rich": richReport(), "no errors": clean, "empty": {}} {
		if err := validate(t, sch, writeSARIF(t, r)); err != nil {
			t.Errorf("%s report: SARIF does not match sarif-schema-2.1.0.json:\n%v", name, err)
		}
	}
}

// The stored schema must be able to say no, or the test above proves
// nothing.
func TestOASISSchemaRejectsBadSARIF(t *testing.T) {
	sch := compileSchema(t, SARIFSchemaURI, sarifSchema(t))
	good := writeSARIF(t, richReport())
	for name, edit := range map[string]func(m map[string]any){
		"version 2.0.0":   func(m map[string]any) { m["version"] = "2.0.0" },
		"startLine 0":     func(m map[string]any) { region0(m)["startLine"] = 0 },
		"level critical":  func(m map[string]any) { result0(m)["level"] = "critical" },
		"unknown field":   func(m map[string]any) { result0(m)["severity"] = "high" },
		"bad suppression": func(m map[string]any) { suppressed0(m)["suppressions"] = []any{map[string]any{"kind": "annotation"}} },
		"no message":      func(m map[string]any) { delete(result0(m), "message") },
	} {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		bad, _ := json.Marshal(m)
		if err := validate(t, sch, bad); err == nil {
			t.Errorf("%s: the SARIF schema accepts it", name)
		}
	}
}

func run0(m map[string]any) map[string]any { return m["runs"].([]any)[0].(map[string]any) }

func result0(m map[string]any) map[string]any {
	return run0(m)["results"].([]any)[0].(map[string]any)
}

func region0(m map[string]any) map[string]any {
	loc := result0(m)["locations"].([]any)[0].(map[string]any)
	return loc["physicalLocation"].(map[string]any)["region"].(map[string]any)
}

func suppressed0(m map[string]any) map[string]any {
	for _, r := range run0(m)["results"].([]any) {
		if r := r.(map[string]any); r["suppressions"] != nil {
			return r
		}
	}
	panic("no suppressed result")
}

// sarifDoc is the part of a SARIF log that GitHub code scanning reads.
type sarifDoc struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name            string `json:"name"`
				InformationURI  string `json:"informationUri"`
				Version         string `json:"version"`
				SemanticVersion string `json:"semanticVersion"`
				Rules           []struct {
					ID               string            `json:"id"`
					Name             string            `json:"name"`
					ShortDescription map[string]string `json:"shortDescription"`
					FullDescription  map[string]string `json:"fullDescription"`
					Help             map[string]string `json:"help"`
					HelpURI          string            `json:"helpUri"`
					Default          struct {
						Level string `json:"level"`
					} `json:"defaultConfiguration"`
					Properties map[string]any `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Invocations []struct {
			ExecutionSuccessful bool `json:"executionSuccessful"`
			Notifications       []struct {
				Level   string            `json:"level"`
				Message map[string]string `json:"message"`
			} `json:"toolExecutionNotifications"`
		} `json:"invocations"`
		Results []struct {
			RuleID    *string           `json:"ruleId"`
			RuleIndex *int              `json:"ruleIndex"`
			Level     string            `json:"level"`
			Message   map[string]string `json:"message"`
			Locations []struct {
				Physical *struct {
					Artifact struct {
						URI       string `json:"uri"`
						URIBaseID string `json:"uriBaseId"`
					} `json:"artifactLocation"`
					Region *struct {
						StartLine int `json:"startLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Suppressions        []struct {
				Kind          string `json:"kind"`
				Justification string `json:"justification"`
			} `json:"suppressions"`
			Properties map[string]any `json:"properties"`
		} `json:"results"`
	} `json:"runs"`
}

func parseSARIF(t *testing.T, b []byte) sarifDoc {
	t.Helper()
	var d sarifDoc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestWriteSARIFGitHubConstraints checks what GitHub code scanning needs
// beyond the schema: see docs/sarif.md.
func TestWriteSARIFGitHubConstraints(t *testing.T) {
	r := richReport()
	d := parseSARIF(t, writeSARIF(t, r))
	if d.Schema == "" || d.Version != "2.1.0" {
		t.Errorf("$schema %q, version %q", d.Schema, d.Version)
	}
	if len(d.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(d.Runs))
	}
	run := d.Runs[0]
	drv := run.Tool.Driver
	if drv.Name != "kmend" || !strings.HasPrefix(drv.InformationURI, "https://") || drv.Version != "v1.4.0" || drv.SemanticVersion != "1.4.0" {
		t.Errorf("driver = %s %s %s %s", drv.Name, drv.InformationURI, drv.Version, drv.SemanticVersion)
	}

	levels := map[string]bool{"error": true, "warning": true, "note": true}
	ruleIDs := map[string]int{}
	for i, rule := range drv.Rules {
		if rule.ID == "" {
			t.Errorf("rule %d has no id", i)
		}
		if _, dup := ruleIDs[rule.ID]; dup {
			t.Errorf("rule %s appears twice", rule.ID)
		}
		ruleIDs[rule.ID] = i
		if rule.Name == "" || rule.ShortDescription["text"] == "" || rule.FullDescription["text"] == "" ||
			rule.Help["text"] == "" || rule.Help["markdown"] == "" {
			t.Errorf("rule %s lacks a name, description or help: %+v", rule.ID, rule)
		}
		if !levels[rule.Default.Level] {
			t.Errorf("rule %s: defaultConfiguration.level %q", rule.ID, rule.Default.Level)
		}
		ss, ok := rule.Properties["security-severity"].(string)
		if !ok {
			t.Errorf("rule %s: security-severity %v is not a string", rule.ID, rule.Properties["security-severity"])
		} else if v, err := strconv.ParseFloat(ss, 64); err != nil || v < 0 || v > 10 {
			t.Errorf("rule %s: security-severity %q does not parse as a float in [0, 10]", rule.ID, ss)
		}
		tags, _ := rule.Properties["tags"].([]any)
		if len(tags) == 0 || tags[0] != "security" {
			t.Errorf("rule %s: tags %v do not start with security", rule.ID, tags)
		}
	}
	// KM-050 has a finding but no Rule: it gets one anyway.
	if _, ok := ruleIDs["KM-050"]; !ok {
		t.Error("no rule for KM-050, which has a finding but is not in Report.Rules")
	}

	fingerprint := regexp.MustCompile(`^[0-9a-f]{16}$`)
	suppressed := 0
	for i, res := range run.Results {
		if res.RuleID == nil || *res.RuleID == "" {
			t.Errorf("result %d has no ruleId", i)
			continue
		}
		id := *res.RuleID
		if res.RuleIndex == nil || *res.RuleIndex != ruleIDs[id] {
			t.Errorf("result %d (%s): ruleIndex %v, rule is at %d", i, id, res.RuleIndex, ruleIDs[id])
		}
		if !levels[res.Level] {
			t.Errorf("result %d (%s): level %q", i, id, res.Level)
		}
		if res.Message["text"] == "" {
			t.Errorf("result %d (%s): no message", i, id)
		}
		if len(res.Locations) == 0 || res.Locations[0].Physical == nil {
			t.Errorf("result %d (%s): no physical location (GitHub rejects the whole file)", i, id)
			continue
		}
		pl := res.Locations[0].Physical
		uri := pl.Artifact.URI
		switch {
		case uri == "":
			t.Errorf("result %d (%s): empty uri", i, id)
		case strings.HasPrefix(uri, "./"), strings.HasPrefix(uri, "/"), strings.Contains(uri, `\`), strings.Contains(uri, "://"):
			t.Errorf("result %d (%s): uri %q is not a clean relative path", i, id, uri)
		}
		if pl.Artifact.URIBaseID != "%SRCROOT%" {
			t.Errorf("result %d (%s): uriBaseId %q", i, id, pl.Artifact.URIBaseID)
		}
		if pl.Region == nil || pl.Region.StartLine < 1 {
			t.Errorf("result %d (%s): region %+v, want startLine >= 1", i, id, pl.Region)
		}
		if fp := res.PartialFingerprints[SARIFFingerprintKey]; !fingerprint.MatchString(fp) {
			t.Errorf("result %d (%s): partialFingerprints %v", i, id, res.PartialFingerprints)
		}
		for _, k := range []string{"reason", "object", "path", "fixability"} {
			if s, _ := res.Properties[k].(string); s == "" {
				t.Errorf("result %d (%s): properties.%s missing", i, id, k)
			}
		}
		if len(res.Suppressions) > 0 {
			suppressed++
			if s := res.Suppressions[0]; s.Kind != "inSource" || s.Justification == "" {
				t.Errorf("result %d (%s): suppression %+v", i, id, s)
			}
		}
	}
	// Every finding with a file is a result; the one from a cluster is not.
	if want := len(r.Findings) - 1 + len(r.Suppressed); len(run.Results) != want {
		t.Errorf("%d results, want %d", len(run.Results), want)
	}
	if suppressed != len(r.Suppressed) {
		t.Errorf("%d suppressed results, want %d", suppressed, len(r.Suppressed))
	}

	if len(run.Invocations) != 1 {
		t.Fatalf("%d invocations", len(run.Invocations))
	}
	inv := run.Invocations[0]
	if inv.ExecutionSuccessful {
		t.Error("executionSuccessful is true with input errors")
	}
	errs := 0
	for _, n := range inv.Notifications {
		if n.Level == "error" && strings.Contains(n.Message["text"], "deploy/broken.yaml:4: ") {
			errs++
		}
	}
	if errs != 1 {
		t.Errorf("the error in deploy/broken.yaml:4 is not a notification: %+v", inv.Notifications)
	}

	clean := richReport()
	clean.Errors = nil
	if d := parseSARIF(t, writeSARIF(t, clean)); !d.Runs[0].Invocations[0].ExecutionSuccessful {
		t.Error("executionSuccessful is false without errors")
	}
}

func TestWriteSARIFResultDetails(t *testing.T) {
	d := parseSARIF(t, writeSARIF(t, richReport()))
	byURI := map[string][]int{}
	for i, res := range d.Runs[0].Results {
		byURI[res.Locations[0].Physical.Artifact.URI] = append(byURI[res.Locations[0].Physical.Artifact.URI], i)
	}
	for _, want := range []string{"deploy/web.yaml", "deploy/db.yaml", "deploy/with%20space/job.yaml"} {
		if len(byURI[want]) == 0 {
			t.Errorf("no result at %s; uris: %v", want, byURI)
		}
	}
	for _, res := range d.Runs[0].Results {
		switch *res.RuleID {
		case "KM-010": // unknown line
			if got := res.Locations[0].Physical.Region.StartLine; got != 1 {
				t.Errorf("KM-010 startLine %d, want 1 for an unknown line", got)
			}
			if res.Level != "warning" {
				t.Errorf("KM-010 (medium) level %q", res.Level)
			}
		case "KM-001":
			if res.Level != "error" || !strings.Contains(res.Message["text"], "(risky: true; Deployment/prod/web, container app)") {
				t.Errorf("KM-001 result: %s %q", res.Level, res.Message["text"])
			}
		case "KM-030":
			if res.Level != "note" {
				t.Errorf("KM-030 (info) level %q", res.Level)
			}
		}
	}
}

func TestSARIFLevelsAndSecuritySeverity(t *testing.T) {
	for _, c := range []struct {
		sev   finding.Severity
		level string
		score string
	}{
		{finding.SeverityCritical, "error", "9.5"},
		{finding.SeverityHigh, "error", "8.0"},
		{finding.SeverityMedium, "warning", "5.5"},
		{finding.SeverityLow, "note", "3.0"},
		{finding.SeverityInfo, "note", "1.0"},
	} {
		if got := SARIFLevel(c.sev); got != c.level {
			t.Errorf("SARIFLevel(%s) = %s, want %s", c.sev, got, c.level)
		}
		rule := sarifRuleOf(Rule{ID: "X", Severity: c.sev})
		if rule.Properties.SecuritySeverity != c.score || rule.DefaultConfiguration.Level != c.level {
			t.Errorf("%s: security-severity %s level %s, want %s %s", c.sev, rule.Properties.SecuritySeverity, rule.DefaultConfiguration.Level, c.score, c.level)
		}
	}
}

func TestArtifactURI(t *testing.T) {
	for _, c := range []struct{ in, uri, base string }{
		{"deploy/web.yaml", "deploy/web.yaml", "%SRCROOT%"},
		{"./deploy/web.yaml", "deploy/web.yaml", "%SRCROOT%"},
		{"deploy//x/../web.yaml", "deploy/web.yaml", "%SRCROOT%"},
		{"deploy/my app/web.yaml", "deploy/my%20app/web.yaml", "%SRCROOT%"},
		{"deploy/100%.yaml", "deploy/100%25.yaml", "%SRCROOT%"},
		{"../other/web.yaml", "../other/web.yaml", "%SRCROOT%"},
		{"/home/me/deploy/web.yaml", "file:///home/me/deploy/web.yaml", ""},
		{"<stdin>", "%3Cstdin%3E", "%SRCROOT%"},
	} {
		uri, base := ArtifactURI(c.in)
		if uri != c.uri || base != c.base {
			t.Errorf("ArtifactURI(%q) = %q, %q; want %q, %q", c.in, uri, base, c.uri, c.base)
		}
	}
}

func TestSemanticVersion(t *testing.T) {
	for v, want := range map[string]string{
		"v1.4.0": "1.4.0", "1.4.0-rc.1": "1.4.0-rc.1", "dev": "", "v1.4.0-3-gabcdef0-dirty": "1.4.0-3-gabcdef0-dirty", "abcdef0": "",
	} {
		d := parseSARIF(t, writeSARIF(t, &Report{Tool: Tool{Version: v}}))
		if got := d.Runs[0].Tool.Driver.SemanticVersion; got != want {
			t.Errorf("version %q: semanticVersion %q, want %q", v, got, want)
		}
		if got := d.Runs[0].Tool.Driver.Version; got != v {
			t.Errorf("version %q: driver.version %q", v, got)
		}
	}
}

func TestSARIFSchemaTestdataIsOASIS(t *testing.T) {
	var doc struct {
		Schema string `json:"$schema"`
		ID     string `json:"id"`
		Title  string `json:"title"`
	}
	if err := json.Unmarshal(sarifSchema(t), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.ID != SARIFSchemaURI || !strings.Contains(doc.Title, "2.1.0") {
		t.Errorf("testdata/sarif-schema-2.1.0.json: id %q, title %q", doc.ID, doc.Title)
	}
}
