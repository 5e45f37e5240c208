package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/sourcemap"
)

const gitops = "../../fixtures/sourcemap/argocd"

func TestLocateThroughArgoCD(t *testing.T) {
	code, out, errs := kmend(t, "", "locate", "testdata/live-argocd.yaml", "--repo", gitops,
		"--repo-url", "git@github.com:kmend-fixtures/gitops.git", "--controls", "KM-002", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{`"file": "workloads/web/web.yaml"`, `"line": 2`, `"via": "argocd"`, `"confidence": "medium"`, `"ref": "main"`, `"control": "KM-002"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
}

// A tracking-id that names another object is not trusted: the object is
// reported as not located and the exit code says so.
func TestLocateRefusesForeignTrackingID(t *testing.T) {
	live, err := os.ReadFile("testdata/live-argocd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	forged := strings.Replace(string(live), "web:apps/Deployment:shop/web", "web:apps/Deployment:shop/payments", 1)
	p := write(t, dir, "live.yaml", forged)
	code, out, _ := kmend(t, "", "locate", p, "--repo", gitops, "--controls", "KM-002")
	if code != exitFindings || !strings.Contains(out, "not located") || !strings.Contains(out, "not trusted") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

// TestLocateSnapshotWalksOwners: in a kubectl snapshot the ReplicaSet and
// Pod a Deployment made are represented by the Deployment, which is traced
// to its file in the sample repository.
func TestLocateSnapshotWalksOwners(t *testing.T) {
	code, out, errs := kmend(t, "", "locate", "../../fixtures/live/snapshot.yaml", "--repo", "../../fixtures/demo-repo",
		"--repo-url", "https://github.com/example-shop/platform", "--controls", "KM-002")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "Deployment/shop/storefront") || !strings.Contains(out, "apps/storefront/storefront.yaml:18") ||
		strings.Contains(out, "ReplicaSet/") || strings.Contains(out, "Pod/") {
		t.Fatalf("output:\n%s", out)
	}
}

// TestWriteLocatedJSONWindows: the report written a window at a time is
// the indented array encoding/json writes at once, across windows.
func TestWriteLocatedJSONWindows(t *testing.T) {
	for _, n := range []int{0, 1, 511, 512, 513, 1500} {
		out := make([]located, n)
		for i := range out {
			out[i] = located{Object: finding.ObjectRef{Kind: "Deployment", Name: fmt.Sprintf("web-%d", i)}}
			switch i % 4 {
			case 0:
				out[i].Error = "not found: <kind> & \"name\""
				out[i].Candidates = []sourcemap.Location{{File: "a.yaml", Line: 3}, {File: "b.yaml", Via: "search"}}
			case 1:
				out[i].Location = &sourcemap.Location{Repo: "https://example.com/r", File: "apps/web.yaml", Document: 1, Line: 7, Via: "argocd", Confidence: "medium"}
			case 2:
				out[i].Findings = []finding.Finding{}
			}
			for j := range i % 3 {
				out[i].Findings = append(out[i].Findings, finding.Finding{ControlID: fmt.Sprintf("KM-%03d", j), Title: "a <b> title", Object: out[i].Object,
					Container: "app", Path: "spec.containers[0]", Reason: finding.ReasonUnset, Message: "runs as root & more", Position: finding.Position{File: "live.yaml", Line: j}})
			}
		}
		var got bytes.Buffer
		if err := writeLocatedJSON(&got, out); err != nil {
			t.Fatal(err)
		}
		want, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			want = []byte("[]")
		}
		if got.String() != string(want)+"\n" {
			t.Fatalf("%d elements: the windowed report differs from json.MarshalIndent", n)
		}
	}
}
