package cluster_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/dynamic"

	"github.com/kmend/kmend/internal/cluster"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/kubetest"
)

// reportCRDs are the upstream CRDs of the reports kmend reads.
var reportCRDs = []string{
	"wgpolicyk8s.io_policyreports.yaml",
	"wgpolicyk8s.io_clusterpolicyreports.yaml",
	"openreports.io_install.yaml",
	"aquasecurity.github.io_configauditreports.yaml",
}

func crdFiles(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = filepath.Join("..", "..", "fixtures", "crds", n)
	}
	return out
}

// TestReportObjects applies the reports' real CRDs, creates the reports
// Kyverno and trivy-operator write about a Deployment's ReplicaSet and Pod,
// reads them back, and walks the reported objects to the Deployment.
func TestReportObjects(t *testing.T) {
	srv := kubetest.Shared(t)
	ctx := context.Background()
	if err := srv.ApplyCRDs(ctx, crdFiles(reportCRDs...)...); err != nil {
		t.Fatal(err)
	}
	c, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	newNamespace(t, c, "reports")
	dep, rs, ps := deploymentWithChildren(t, c, "reports")
	src := fmt.Sprintf(`apiVersion: aquasecurity.github.io/v1alpha1
kind: ConfigAuditReport
metadata:
  name: replicaset-%[1]s
  namespace: reports
  labels:
    trivy-operator.resource.kind: ReplicaSet
    trivy-operator.resource.name: %[1]s
    trivy-operator.resource.namespace: reports
  ownerReferences:
    - {apiVersion: apps/v1, kind: ReplicaSet, name: %[1]s, uid: %[2]s, controller: true, blockOwnerDeletion: false}
report:
  updateTimestamp: "2026-01-02T03:04:05Z"
  scanner: {name: Trivy, vendor: Aqua Security, version: 0.24.1}
  summary: {criticalCount: 0, highCount: 0, lowCount: 0, mediumCount: 1}
  checks:
    - {checkID: KSV001, title: Process can elevate its own privileges, severity: MEDIUM, success: false,
       messages: ["Container 'web' should set 'securityContext.allowPrivilegeEscalation' to false"], scope: {type: Container, value: web}}
---
apiVersion: wgpolicyk8s.io/v1alpha2
kind: PolicyReport
metadata:
  name: %[3]s
  namespace: reports
  labels: {app.kubernetes.io/managed-by: kyverno}
  ownerReferences:
    - {apiVersion: v1, kind: Pod, name: %[4]s, uid: %[3]s}
scope: {apiVersion: v1, kind: Pod, name: %[4]s, namespace: reports, uid: %[3]s}
results:
  - {policy: disallow-privilege-escalation, rule: privilege-escalation, result: fail, severity: medium, source: kyverno, message: Privilege escalation is disallowed.}
summary: {fail: 1}
---
apiVersion: openreports.io/v1alpha1
kind: Report
metadata: {name: web-deployment, namespace: reports}
source: kyverno
scope: {apiVersion: apps/v1, kind: Deployment, name: web, namespace: reports, uid: %[5]s}
results:
  - {policy: disallow-latest-tag, result: pass, severity: medium}
---
apiVersion: wgpolicyk8s.io/v1alpha2
kind: ClusterPolicyReport
metadata: {name: reports-namespace}
scope: {apiVersion: v1, kind: Namespace, name: reports}
results:
  - {policy: require-ns-labels, result: fail, severity: medium, source: kyverno}
`, rs.GetName(), rs.GetUID(), ps[0].GetUID(), ps[0].GetName(), dep.GetUID())
	if _, err := kc.CreateYAML(ctx, []byte(src)); err != nil {
		t.Fatal(err)
	}

	names := func(o cluster.ReportOptions) []string {
		objs, err := cluster.ReportObjects(ctx, srv.Config, o)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, u := range objs {
			if u.GetManagedFields() != nil {
				t.Errorf("%s %s keeps managedFields", u.GetKind(), u.GetName())
			}
			if u.GetNamespace() == "reports" || u.GetNamespace() == "" {
				out = append(out, u.GetKind()+"/"+u.GetName())
			}
		}
		return out
	}
	want := []string{"PolicyReport/" + string(ps[0].GetUID()), "ClusterPolicyReport/reports-namespace", "Report/web-deployment", "ConfigAuditReport/replicaset-" + rs.GetName()}
	if got := names(cluster.ReportOptions{}); !slices.Equal(got, want) {
		t.Errorf("every report: %q, want %q", got, want)
	}
	if got := names(cluster.ReportOptions{Namespace: "reports"}); !slices.Equal(got, slices.Delete(slices.Clone(want), 1, 2)) {
		t.Errorf("one namespace's reports: %q", got)
	}

	owners, err := cluster.NewOwners(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ref  finding.ObjectRef
		want string
		ok   bool
	}{
		{finding.ObjectRef{Kind: "ReplicaSet", Namespace: "reports", Name: rs.GetName(), UID: string(rs.GetUID())}, "apps/v1 Deployment/reports/web " + string(dep.GetUID()), true},
		{finding.ObjectRef{APIVersion: "v1", Kind: "Pod", Namespace: "reports", Name: ps[1].GetName()}, "apps/v1 Deployment/reports/web " + string(dep.GetUID()), true},
		{finding.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "reports", Name: "web"}, "apps/v1 Deployment/reports/web " + string(dep.GetUID()), true},
		{finding.ObjectRef{Kind: "Namespace", Name: "reports"}, "", false},
		{finding.ObjectRef{Kind: "ReplicaSet", Namespace: "reports", Name: rs.GetName(), UID: "a-uid-that-is-gone"}, "", false},
		{finding.ObjectRef{Kind: "Pod", Namespace: "reports", Name: "gone"}, "", false},
		{finding.ObjectRef{APIVersion: "example.com/v1", Kind: "Pod", Namespace: "reports", Name: ps[1].GetName()}, "", false},
	} {
		top, ok, err := owners.Top(ctx, tc.ref)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if ok {
			got = top.APIVersion + " " + top.String() + " " + top.UID
		}
		if ok != tc.ok || got != tc.want {
			t.Errorf("Top(%s) = %q, %v; want %q, %v", tc.ref, got, ok, tc.want, tc.ok)
		}
	}
	if !strings.HasPrefix(rs.GetName(), "web-") {
		t.Fatal(rs.GetName())
	}
}
