package remediate_test

import (
	"strings"
	"testing"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/remediate"
)

const control = `apiVersion: kmend.dev/v1alpha1
kind: Control
id: T-001
name: no-escalation
title: test
severity: high
category: test
rationale: test
references: [https://example.com]
check:
  level: container
  field: securityContext.allowPrivilegeEscalation
  unset: fail
  safe: {equals: false}
why:
  unset: unset
  risky: risky
fix:
  fixability: auto
  strategicMerge: |
    securityContext:
      allowPrivilegeEscalation: false
  jsonPatch: |
    - {op: add, path: /securityContext/allowPrivilegeEscalation, value: false}
`

const pod = `apiVersion: v1
kind: Pod
metadata:
  name: p   # keep me
spec:
  containers:
    - name: a
      image: x:1
`

func custom(t *testing.T, from, to string) *catalog.Control {
	t.Helper()
	c, err := catalog.Parse("t.yaml", []byte(strings.Replace(control, from, to, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fix(t *testing.T, cs []*catalog.Control, src string) *remediate.FileResult {
	t.Helper()
	set := manifestFrom(t, "p.yaml", []byte(src))
	rs := remediate.Run(set, cs, remediate.Options{})
	if len(rs) != 1 {
		t.Fatalf("%d results", len(rs))
	}
	return rs[0]
}

func TestVerifiedFixIsWritten(t *testing.T) {
	r := fix(t, []*catalog.Control{custom(t, "", "")}, pod)
	if len(r.Applied) != 1 || len(r.Dropped) != 0 {
		t.Fatalf("applied %d, dropped %+v", len(r.Applied), r.Dropped)
	}
	want := pod + "      securityContext:\n        allowPrivilegeEscalation: false\n"
	if string(r.After) != want {
		t.Fatalf("after:\n%s\nwant:\n%s", r.After, want)
	}
}

// A fix is dropped, and nothing is written, when it does not make its
// control pass, when its RFC 6902 form disagrees with the edit, or when it
// makes another control fail.
func TestUnverifiedFixesAreDropped(t *testing.T) {
	other := custom(t, "id: T-001", "id: T-002")
	breaking := func() *catalog.Control {
		c := custom(t, "value: false}\n", "value: false}\n    - {op: add, path: /securityContext/privileged, value: true}\n")
		c.Fix.StrategicMerge += "  privileged: true\n"
		return c
	}
	other.Check.Field = "securityContext.privileged"
	other.Check.Unset = "pass"
	other.Check.Safe = &catalog.Matcher{Equals: &catalog.Scalar{Value: "false"}}
	for _, tc := range []struct {
		name     string
		controls []*catalog.Control
		want     string
	}{
		{"does not pass", []*catalog.Control{custom(t, "      allowPrivilegeEscalation: false\n  jsonPatch: |\n    - {op: add, path: /securityContext/allowPrivilegeEscalation, value: false}",
			"      allowPrivilegeEscalation: true\n  jsonPatch: |\n    - {op: add, path: /securityContext/allowPrivilegeEscalation, value: true}")}, "does not make T-001 pass"},
		{"forms disagree", []*catalog.Control{custom(t, "value: false}", "value: true}")}, "RFC 6902 patch gives another object"},
		{"breaks another", []*catalog.Control{
			breaking(),
			other,
		}, "makes T-002 fail"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fix(t, tc.controls, pod)
			if r.Changed() || len(r.Applied) != 0 {
				t.Fatalf("an unverified fix was kept:\n%s", r.After)
			}
			if len(r.Dropped) == 0 || !strings.Contains(r.Dropped[0].Reason, tc.want) {
				t.Fatalf("dropped = %+v, want %q", r.Dropped, tc.want)
			}
		})
	}
}

// TestBadInputs: one broken, hostile or template file never stops the
// others; files that cannot be edited faithfully are reported, not touched.
func TestBadInputs(t *testing.T) {
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	set := manifest.Load([]string{"../../fixtures/bad"}, manifest.Options{})
	errs := map[string]string{}
	for _, e := range set.Errors {
		errs[e.Error()[:strings.Index(e.Error(), ".yaml")+5]] = e.Error()
	}
	if !strings.Contains(errs["../../fixtures/bad/broken.yaml"], "broken.yaml:12") {
		t.Errorf("broken.yaml: want an error with its line, got %q", errs["../../fixtures/bad/broken.yaml"])
	}
	if !strings.Contains(errs["../../fixtures/bad/alias-bomb.yaml"], "too large") {
		t.Errorf("alias-bomb.yaml: want it refused, got %q", errs["../../fixtures/bad/alias-bomb.yaml"])
	}
	if len(set.Skipped) != 1 || !strings.HasSuffix(set.Skipped[0].Path, "helm-deployment.yaml") {
		t.Errorf("skipped = %+v, want the Helm template", set.Skipped)
	}
	results := remediate.Run(set, cat.All(), remediate.Options{Fixability: []finding.Fixability{finding.FixAuto}})
	byFile := map[string]*remediate.FileResult{}
	for _, r := range results {
		byFile[r.Path[strings.LastIndex(r.Path, "/")+1:]] = r
	}
	if r := byFile["valid.yaml"]; r == nil || !r.Changed() || len(r.Dropped) != 0 {
		t.Errorf("valid.yaml next to bad files was not fixed: %+v", r)
	}
	if r := byFile["anchors.yaml"]; r == nil || r.Changed() || len(r.Dropped) == 0 || !strings.Contains(r.Dropped[0].Reason, "anchors") {
		t.Errorf("anchors.yaml must be reported as not editable: %+v", r)
	}
}
