package catalog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadBuiltin(t *testing.T) {
	c, err := LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	ctl, ok := c.Get("km-002")
	if !ok || ctl.Name != "allow-privilege-escalation" {
		t.Fatalf("Get(km-002) = %v, %v", ctl, ok)
	}
	if got := c.Lookup("kubescape", "C-0016"); len(got) != 1 || got[0].ID != "KM-002" {
		t.Fatalf("Lookup(kubescape, C-0016) = %v", got)
	}
	if got := c.Lookup("", "ksv001"); len(got) != 1 {
		t.Fatalf("Lookup(any, ksv001) = %v", got)
	}
	if _, err := c.Select([]string{"KM-999"}); err == nil {
		t.Fatal("Select of an unknown control did not fail")
	}
}

const good = `apiVersion: kmend.dev/v1alpha1
kind: Control
id: ACME-001
name: no-debug
title: No debug env
severity: low
category: hygiene
rationale: debug mode leaks.
references: [https://example.com]
check:
  level: container
  field: env[].value
  where: {field: name, equals: DEBUG}
  risky: {equals: "true"}
why:
  risky: DEBUG is {{.Observed}} in {{.Container}}.
fix:
  fixability: manual
`

func TestParseErrorsNameFileAndLine(t *testing.T) {
	cases := []struct {
		name, edit, want string
	}{
		{"unknown field", strings.Replace(good, "category: hygiene", "category: hygiene\ncolour: red", 1), "c.yaml:8: field colour not found"},
		{"bad severity", strings.Replace(good, "severity: low", "severity: huge", 1), "c.yaml:6: unknown severity"},
		{"bad id", strings.Replace(good, "ACME-001", "acme 1", 1), "c.yaml:3: id"},
		{"bad level", strings.Replace(good, "level: container", "level: node", 1), "c.yaml:11: check.level"},
		{"bad regex", strings.Replace(good, "equals: DEBUG", "regex: '(['", 1), "c.yaml:13: bad regex"},
		{"bad template", strings.Replace(good, "{{.Observed}}", "{{.Nope}}", 1), "c.yaml:16: template"},
		{"where without []", strings.Replace(good, "env[].value", "env", 1), "where needs"},
		{"auto without patches", strings.Replace(good, "fixability: manual", "fixability: auto", 1), "c.yaml:17: fix.strategicMerge and fix.jsonPatch are required"},
		{"broken yaml", "id: [", "c.yaml:1:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tc.edit))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := Parse("c.yaml", []byte(good)); err != nil {
		t.Fatalf("good control: %v", err)
	}
}

func TestLoadDirCustomAndDuplicates(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "acme-001"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "acme-001", ControlFile), []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get("ACME-001"); !ok {
		t.Fatal("custom control not loaded")
	}
	if _, err := Load(dir, dir); err == nil || !strings.Contains(err.Error(), "duplicate control id ACME-001") {
		t.Fatalf("duplicate: %v", err)
	}
	fsys := fstest.MapFS{"x/control.yaml": {Data: []byte("id: [")}, "y/control.yaml": {Data: []byte(good)}}
	cs, err := LoadFS(fsys, ".", "cat")
	var e *Error
	if len(cs) != 1 || !errors.As(err, &e) || e.File != "cat/x/control.yaml" {
		t.Fatalf("LoadFS = %d controls, %v", len(cs), err)
	}
	if _, err := LoadDir(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("missing dir loaded")
	}
}

func TestParseField(t *testing.T) {
	for in, want := range map[string]string{
		"securityContext.runAsUser":                   "securityContext.runAsUser",
		"ports[].hostPort":                            "ports[].hostPort",
		`metadata.annotations["a.b/c-{container}"].x`: `metadata.annotations["a.b/c-{container}"].x`,
	} {
		f, err := ParseField(in)
		if err != nil || f.String() != want {
			t.Errorf("ParseField(%q) = %q, %v", in, f.String(), err)
		}
	}
	for _, bad := range []string{"", "a..b", "a.", `a["b`, "a]b"} {
		if _, err := ParseField(bad); err == nil {
			t.Errorf("ParseField(%q) did not fail", bad)
		}
	}
}
