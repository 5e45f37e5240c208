package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kmend/kmend/internal/catalog"
)

// TestCount: failed checks (critical, warning) are grouped by the
// fixability of the controls they map to; passing and skipped ones are not
// counted.
func TestCount(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "ks.json")
	report := `[{"object_name": "web", "file_name": "a.yaml", "checks": [
	 {"check": {"id": "container-image-pull-policy"}, "grade": 1, "skipped": false},
	 {"check": {"id": "container-resources"}, "grade": 5, "skipped": false},
	 {"check": {"id": "container-image-tag"}, "grade": 1, "skipped": false},
	 {"check": {"id": "pod-networkpolicy"}, "grade": 1, "skipped": false},
	 {"check": {"id": "container-security-context-privileged"}, "grade": 10, "skipped": false},
	 {"check": {"id": "container-ports-check"}, "grade": 1, "skipped": true}
	]}]`
	if err := os.WriteFile(p, []byte(report), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := count(p, cat)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"auto": 1, "review": 1, "manual": 1, "unmapped": 1}
	for _, g := range groups {
		if got[g] != want[g] {
			t.Errorf("%s: %d findings, want %d (all: %v)", g, got[g], want[g], got)
		}
	}
	if err := os.WriteFile(p, []byte(`{"not": "a list"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := count(p, cat); err == nil {
		t.Error("a report that is not kube-score's was read")
	}
}
