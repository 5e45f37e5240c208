package importer

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/kmend/kmend/internal/finding"
)

// objectsOf decodes a fixture's documents as a client would list them.
func objectsOf(t *testing.T, name string) []map[string]any {
	t.Helper()
	docs, err := decodeDocs(fixture(t, name))
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, d := range docs {
		for _, it := range flatten(d.raw, "") {
			var m map[string]any
			if err := json.Unmarshal(it.raw, &m); err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
	}
	return out
}

// TestParseObjectsMatchesParse: reports read as objects (from the API
// server) give what the same reports read from a file give.
func TestParseObjectsMatchesParse(t *testing.T) {
	cat := builtin(t)
	for _, file := range []string{"kyverno-policyreport.yaml", "kyverno-openreports-list.yaml", "trivy-configauditreports-list.yaml", "kyverno-podsecurity.yaml"} {
		t.Run(file, func(t *testing.T) {
			want, err := Parse(file, fixture(t, file), cat)
			if err != nil {
				t.Fatal(err)
			}
			got := ParseObjects(objectsOf(t, file), cat)
			if !slices.Equal(lines(got.Findings), lines(want.Findings)) || !slices.Equal(lines(got.Unmapped), lines(want.Unmapped)) {
				t.Errorf("findings\n got %q %q\nwant %q %q", lines(got.Findings), lines(got.Unmapped), lines(want.Findings), lines(want.Unmapped))
			}
			if len(got.Errors) != 0 || len(got.Checked) != len(want.Checked) || len(got.Owners) != len(want.Owners) {
				t.Errorf("errors %q, %d checks (want %d), %d owners (want %d)", errLines(got.Errors), len(got.Checked), len(want.Checked), len(got.Owners), len(want.Owners))
			}
		})
	}
}

func TestParseObjectsErrors(t *testing.T) {
	objs := []map[string]any{
		{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "settings", "namespace": "shop"}},
		{"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport", "metadata": map[string]any{"name": "r", "namespace": "shop"},
			"scope":   map[string]any{"kind": "Pod", "name": "p", "namespace": "shop"},
			"results": []any{map[string]any{"policy": "x", "result": "maybe"}, map[string]any{"policy": "disallow-privileged-containers", "source": "kyverno", "result": "fail"}}},
	}
	res := ParseObjects(objs, builtin(t))
	got := errLines(res.Errors)
	want := []string{
		`PolicyReport shop/r: document 0, results[0]: unknown result "maybe" (want pass, fail, warn, error or skip)`,
		"ConfigMap shop/settings: document 0: v1 ConfigMap: " + ErrNotAReport.Error(),
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors\n got %q\nwant %q", got, want)
	}
	if l := lines(res.Findings); len(l) != 1 || !strings.HasPrefix(l[0], "KM-001  Pod/shop/p") {
		t.Errorf("findings %q", l)
	}
}

// TestLift moves trivy-operator's findings on a ReplicaSet and a Pod onto
// their Deployment, as the live owner chain says: paths into the pod spec
// follow, duplicates merge, checks move, and the message says where the
// finding was reported.
func TestLift(t *testing.T) {
	cat := builtin(t)
	res, err := Parse("list", fixture(t, "trivy-configauditreports-list.yaml"), cat)
	if err != nil {
		t.Fatal(err)
	}
	dep := finding.ObjectRef{Cluster: "prod", APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web", UID: "9d0f6c1e-0000"}
	lifted := res.Lift(func(o finding.ObjectRef) (finding.ObjectRef, bool) {
		if o.Kind == "ReplicaSet" && o.Name == "web-5d9c7b6f8" {
			return dep, true
		}
		o.Cluster = "prod"
		return o, true
	})
	want := []string{
		"KM-001 apps/v1 Deployment/shop/web uid=9d0f6c1e high review trivy-operator:KSV017",
		"KM-007 apps/v1 Deployment/shop/web uid=9d0f6c1e low auto trivy-operator:KSV106",
		"KM-009 apps/v1 Deployment/shop/web uid=9d0f6c1e low review trivy-operator:KSV106",
		"KM-006 apps/v1 Deployment/shop/web uid=9d0f6c1e app low review trivy-operator:AVD-KSV-0014",
		"KM-002 v1 Pod/shop/debug uid=7a6b5c4d debug medium auto trivy-operator:KSV001",
	}
	if got := lines(lifted.Findings); !slices.Equal(got, want) {
		t.Errorf("findings\n got %q\nwant %q", got, want)
	}
	for _, f := range append(lifted.Findings, lifted.Unmapped...) {
		if f.Object.Cluster != "prod" {
			t.Errorf("%s: cluster %q", f.Object, f.Object.Cluster)
		}
		moved := strings.Contains(f.Message, "(reported on ReplicaSet/shop/web-5d9c7b6f8; its owner chain in the cluster leads to Deployment/shop/web)")
		if moved != (f.Object.Kind == "Deployment") {
			t.Errorf("%s %s: message %q", f.ControlID, f.Object, f.Message)
		}
	}
	for p := range lifted.Checked {
		if p.Object.Kind == "ReplicaSet" {
			t.Errorf("check %v was not moved", p)
		}
	}
	if _, ok := lifted.Owners[dep]; ok {
		t.Errorf("owners of the Deployment: %v", lifted.Owners[dep])
	}
	if len(lifted.Objects()) != 2 {
		t.Errorf("objects %v", lifted.Objects())
	}

	// A Pod's finding moved to its Deployment: the path follows into the
	// pod template; two reports of one thing become one finding.
	pod := finding.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "shop", Name: "web-5d9c7b6f8-abcde"}
	rs := finding.ObjectRef{APIVersion: "apps/v1", Kind: "ReplicaSet", Namespace: "shop", Name: "web-5d9c7b6f8"}
	r := &Result{
		Findings: []finding.Finding{
			{ControlID: "KM-002", Object: pod, Container: "web", Path: "spec.containers[0].securityContext.allowPrivilegeEscalation", Origin: "kyverno", ForeignID: "p", Message: "from the pod"},
			{ControlID: "KM-002", Object: rs, Container: "web", Path: "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation", Origin: "kyverno", ForeignID: "p", Message: "from the replicaset"},
			{ControlID: "KM-015", Object: pod, Path: "spec.hostNetwork", Origin: "kyverno", ForeignID: "h"},
			{ControlID: "KM-030", Object: pod, Path: "metadata.annotations", Origin: "kyverno", ForeignID: "a"},
		},
		Checked: map[Pair]bool{{Object: pod, ControlID: "KM-002"}: true, {Object: rs, ControlID: "KM-002"}: false},
	}
	out := r.Lift(func(o finding.ObjectRef) (finding.ObjectRef, bool) { return dep, true })
	var paths []string
	for _, f := range out.Findings {
		paths = append(paths, f.ControlID+" "+f.Object.String()+" "+f.Path)
	}
	wantPaths := []string{
		"KM-002 Deployment/shop/web spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation",
		"KM-015 Deployment/shop/web spec.template.spec.hostNetwork",
		"KM-030 Deployment/shop/web metadata.annotations",
	}
	slices.Sort(paths)
	if !slices.Equal(paths, wantPaths) {
		t.Errorf("paths\n got %q\nwant %q", paths, wantPaths)
	}
	if len(out.Checked) != 1 || !out.Checked[Pair{Object: dep, ControlID: "KM-002"}] {
		t.Errorf("checked %v", out.Checked)
	}
	for _, f := range out.Findings {
		if f.ControlID == "KM-002" && (!strings.Contains(f.Message, "from the pod") || !strings.Contains(f.Message, "from the replicaset")) {
			t.Errorf("merged message %q", f.Message)
		}
	}
}

func TestRebase(t *testing.T) {
	for _, tc := range []struct{ path, from, to, want string }{
		{"spec.containers[0].image", "Pod", "Deployment", "spec.template.spec.containers[0].image"},
		{"spec.containers[0].image", "Pod", "CronJob", "spec.jobTemplate.spec.template.spec.containers[0].image"},
		{"spec.template.spec.hostPID", "Job", "CronJob", "spec.jobTemplate.spec.template.spec.hostPID"},
		{"spec.template.spec.hostPID", "ReplicaSet", "Deployment", "spec.template.spec.hostPID"},
		{"spec", "Pod", "StatefulSet", "spec.template.spec"},
		{"spec.specialField", "ReplicaSet", "Deployment", "spec.specialField"},
		{"metadata.labels", "Pod", "Deployment", "metadata.labels"},
		{"spec.containers[0].image", "Pod", "Rollout", "spec.containers[0].image"},
		{"", "Pod", "Deployment", ""},
	} {
		if got := rebase(tc.path, tc.from, tc.to); got != tc.want {
			t.Errorf("rebase(%q, %s, %s) = %q, want %q", tc.path, tc.from, tc.to, got, tc.want)
		}
	}
}
