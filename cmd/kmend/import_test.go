package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kmend/kmend/internal/kubetest"
	"github.com/kmend/kmend/internal/output"
)

const reportsDir = "../../fixtures/reports"

func reportFixture(name string) string { return filepath.Join(reportsDir, name) }

type importedReport struct {
	Inputs   []string
	Findings []struct {
		Control, Title, Severity, Reason, Fixability, Origin, ForeignID, Message, Container string
		Object                                                                              struct{ Kind, Namespace, Name string }
	}
	Errors []struct {
		File    string
		Line    int
		Message string
	}
	Rules   []struct{ ID string }
	Summary struct {
		Files, Objects, Findings int
		Score                    float64
		ByReason                 map[string]int
		Fixable                  map[string]int
	}
}

func decodeImported(t *testing.T, out string) importedReport {
	t.Helper()
	sch := reportSchema(t)
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
	if err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if err := sch.Validate(doc); err != nil {
		t.Errorf("output does not match the report schema: %v", err)
	}
	var rep importedReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

func reportSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(output.JSONSchema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(output.ReportSchemaID, v); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(output.ReportSchemaID)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func TestImportJSON(t *testing.T) {
	code, out, errs := kmend(t, "", "import", "-o", "json",
		reportFixture("kyverno-policyreport.yaml"), reportFixture("trivy-configauditreports-list.yaml"))
	if code != exitFindings {
		t.Fatalf("exit %d, want 1; stderr %s", code, errs)
	}
	rep := decodeImported(t, out)
	var got []string
	for _, f := range rep.Findings {
		got = append(got, f.Control+" "+f.Object.Kind+"/"+f.Object.Name+" "+f.Origin+":"+f.ForeignID+" "+f.Fixability)
		if f.Reason != "reported" || f.Message == "" || f.Title == "" {
			t.Errorf("finding %+v: want reason reported, a message and a title", f)
		}
	}
	want := []string{
		"KM-015 Pod/kube-apiserver-kind-control-plane kyverno:disallow-host-namespaces review",
		"KM-016 Pod/kube-apiserver-kind-control-plane kyverno:disallow-host-namespaces review",
		"KM-017 Pod/kube-apiserver-kind-control-plane kyverno:disallow-host-namespaces review",
		"KM-002 Pod/debug trivy-operator:KSV001 auto",
		"EXT-trivy-KSV117 ReplicaSet/web-5d9c7b6f8 trivy-operator:KSV117 manual",
		"KM-001 ReplicaSet/web-5d9c7b6f8 trivy-operator:KSV017 review",
		"KM-007 ReplicaSet/web-5d9c7b6f8 trivy-operator:KSV106 auto",
		"KM-009 ReplicaSet/web-5d9c7b6f8 trivy-operator:KSV106 review",
		"KM-006 ReplicaSet/web-5d9c7b6f8 trivy-operator:AVD-KSV-0014 review", // container app sorts last
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	var rules []string
	for _, r := range rep.Rules {
		rules = append(rules, r.ID)
	}
	if want := []string{"KM-001", "KM-002", "KM-006", "KM-007", "KM-009", "KM-015", "KM-016", "KM-017"}; !slices.Equal(rules, want) {
		t.Errorf("rules = %v, want the mapped controls %v", rules, want)
	}
	s := rep.Summary
	if s.Files != 2 || s.Objects != 3 || s.Findings != 9 || s.ByReason["reported"] != 9 || s.Fixable["manual"] != 1 || len(rep.Errors) != 0 {
		t.Errorf("summary = %+v, errors %v", s, rep.Errors)
	}
}

func TestImportStdinAndFormats(t *testing.T) {
	in, err := os.ReadFile(reportFixture("kyverno-openreports-list.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := kmend(t, string(in), "import", "-o", "json", "-")
	if code != exitFindings {
		t.Fatalf("stdin: exit %d; stderr %s", code, errs)
	}
	rep := decodeImported(t, out)
	if len(rep.Findings) != 1 || rep.Findings[0].Control != "EXT-kyverno-require-app-label" || rep.Findings[0].Fixability != "manual" ||
		!strings.Contains(rep.Findings[0].Message, "Pods must have an 'app' label") || !slices.Equal(rep.Inputs, []string{"-"}) {
		t.Errorf("stdin report = %+v", rep)
	}

	// Kubescape JSON, as a table.
	code, out, _ = kmend(t, "", "import", reportFixture("kubescape-results.json"))
	if code != exitFindings {
		t.Fatalf("kubescape: exit %d", code)
	}
	for _, want := range []string{"(not read from a file)", "Deployment/shop/web", "container log-shipper", "reported by kubescape C-0057",
		"EXT-kubescape-C-0054", "Cluster internal networking", "by hand"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}

	// SARIF: the findings name no file, so they are notifications tied to
	// their rules.
	code, out, _ = kmend(t, "", "import", "-o", "sarif", reportFixture("kyverno-policyreport.yaml"))
	var log struct {
		Version string
		Runs    []struct {
			Tool struct {
				Driver struct{ Rules []struct{ ID string } }
			}
			Invocations []struct {
				ExecutionSuccessful        bool
				ToolExecutionNotifications []struct{ Message struct{ Text string } }
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil || code != exitFindings {
		t.Fatalf("sarif: exit %d, %v\n%s", code, err, out)
	}
	run := log.Runs[0]
	if log.Version != "2.1.0" || len(run.Tool.Driver.Rules) != 3 || len(run.Invocations[0].ToolExecutionNotifications) != 3 ||
		!strings.Contains(run.Invocations[0].ToolExecutionNotifications[0].Message.Text, "reported by kyverno disallow-host-namespaces") {
		t.Errorf("sarif = %+v", log)
	}
}

func TestImportBadInputGoesOn(t *testing.T) {
	dir := t.TempDir()
	notReport := write(t, dir, "configmap.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
	code, out, _ := kmend(t, "", "import", "-o", "json",
		reportFixture("malformed.yaml"), filepath.Join(dir, "missing.yaml"), dir, notReport, reportFixture("kyverno-resources-policyreport.yaml"))
	if code != exitError {
		t.Fatalf("exit %d, want 2", code)
	}
	rep := decodeImported(t, out)
	var errs []string
	for _, e := range rep.Errors {
		errs = append(errs, strings.TrimPrefix(strings.TrimPrefix(e.File, dir), reportsDir+"/")+":"+e.Message)
	}
	for _, want := range []string{
		"malformed.yaml:document 0, results[1]: resources: want a list, got a string",
		"malformed.yaml:document 2, report.checks[0]: success: want true or false, got a string",
		"/missing.yaml:no such file or directory",
		":is a directory (give the report files)",
		"/configmap.yaml:v1 ConfigMap: not a report kmend can import",
	} {
		if !slices.ContainsFunc(errs, func(e string) bool { return strings.HasPrefix(e, want) }) {
			t.Errorf("errors lack %q:\n  %s", want, strings.Join(errs, "\n  "))
		}
	}
	if len(rep.Errors) != 7 {
		t.Errorf("%d errors, want 7 (4 entries of malformed.yaml, 3 files)", len(rep.Errors))
	}
	// The readable reports and entries are still imported.
	if rep.Summary.Files != 2 || len(rep.Findings) != 5 {
		t.Errorf("files %d, findings %d: want the 2 readable reports and their 5 findings", rep.Summary.Files, len(rep.Findings))
	}
	for _, e := range rep.Errors {
		if strings.HasSuffix(e.File, "malformed.yaml") && strings.Contains(e.Message, "results[1]") && e.Line != 8 {
			t.Errorf("malformed.yaml results[1] at line %d, want the document's line 8", e.Line)
		}
	}
}

func TestImportExitCodes(t *testing.T) {
	dir := t.TempDir()
	clean := write(t, dir, "clean.yaml", `apiVersion: wgpolicyk8s.io/v1alpha2
kind: PolicyReport
metadata: {name: r, namespace: shop}
scope: {apiVersion: apps/v1, kind: Deployment, name: web, namespace: shop}
results:
- {policy: disallow-privileged-containers, rule: autogen-privileged-containers, result: pass, source: kyverno}
- {policy: restrict-seccomp-strict, rule: autogen-check-seccomp-strict, result: skip, source: kyverno}
`)
	policyreport := reportFixture("kyverno-policyreport.yaml") // three medium findings
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string // in stdout
		errs string // in stderr
	}{
		{"clean report", []string{clean}, exitOK, "No findings.", ""},
		{"findings", []string{policyreport}, exitFindings, "Score: 14.3/100 (1 file, 1 object scanned)", ""},
		{"below --fail-on", []string{"--fail-on", "high", policyreport}, exitOK, "KM-015", ""},
		{"at --fail-on", []string{"--fail-on", "medium", policyreport}, exitFindings, "", ""},
		{"bad --fail-on", []string{"--fail-on", "severe", policyreport}, exitError, "", "--fail-on"},
		{"bad format", []string{"-o", "xml", policyreport}, exitError, "", "want table, json or sarif"},
		{"patch is scan's", []string{"-o", "patch", policyreport}, exitError, "", "want table, json or sarif"},
		{"no input", nil, exitError, "", "no input"},
		{"too large", []string{"--max-file-size", "100", policyreport}, exitError, "larger than 100 bytes", ""},
		{"stdin twice", []string{"-", "-"}, exitError, "standard input given twice", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := kmend(t, "", append([]string{"import"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errs, tc.errs) {
				t.Errorf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s\nwant %q in stdout, %q in stderr", code, tc.code, out, errs, tc.out, tc.errs)
			}
		})
	}
}

func TestImportHelp(t *testing.T) {
	code, out, _ := kmend(t, "", "import", "--help")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"kmend import FILE... | - | --cluster", "PolicyReport", "openreports.io", "ConfigAuditReport", "kubescape scan --format json",
		"EXT-<tool>-<id>", "--cluster", "--kubeconfig", "--namespace", "lands on the Deployment", "Exit codes", "kubectl get policyreports,clusterpolicyreports -A -o yaml", "--fail-on"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	if code, out, _ := kmend(t, "", "--help"); code != exitOK || !strings.Contains(out, "import") {
		t.Errorf("kmend --help does not list import:\n%s", out)
	}
}

// TestImportCluster runs `kmend import --cluster` against a real API
// server with the reports' real CRDs: trivy-operator's ConfigAuditReport on
// a Deployment's ReplicaSet and Kyverno's PolicyReport on one of its Pods
// land on the Deployment (the owner chain the controller-manager would
// have made), a bare Pod's report stays on the Pod, and -n leaves other
// namespaces and cluster-scoped reports out.
func TestImportCluster(t *testing.T) {
	srv := kubetest.Start(t)
	ctx := context.Background()
	crds := []string{"wgpolicyk8s.io_policyreports.yaml", "wgpolicyk8s.io_clusterpolicyreports.yaml",
		"openreports.io_install.yaml", "aquasecurity.github.io_configauditreports.yaml"}
	for i := range crds {
		crds[i] = filepath.Join("..", "..", "fixtures", "crds", crds[i])
	}
	if err := srv.ApplyCRDs(ctx, crds...); err != nil {
		t.Fatal(err)
	}
	kc, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	create := func(src string) *unstructured.Unstructured {
		t.Helper()
		objs, err := kc.CreateYAML(ctx, []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		return objs[0]
	}
	controller := func(o *unstructured.Unstructured) string {
		return fmt.Sprintf("ownerReferences: [{apiVersion: %s, kind: %s, name: %s, uid: %s, controller: true, blockOwnerDeletion: true}]",
			o.GetAPIVersion(), o.GetKind(), o.GetName(), o.GetUID())
	}
	create("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n")
	podSpec := "spec:\n  containers: [{name: web, image: nginx:1.27, securityContext: {allowPrivilegeEscalation: true}}]\n"
	template := "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx:1.27}]\n"
	dep := create("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n" + template)
	rs := create("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-5d9c7b6f8\n  namespace: shop\n  " + controller(dep) + "\nspec:\n" + template)
	pod := create("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-5d9c7b6f8-abcde\n  namespace: shop\n  " + controller(rs) + "\n" + podSpec)
	debug := create("apiVersion: v1\nkind: Pod\nmetadata: {name: debug, namespace: shop}\n" + podSpec)
	create(fmt.Sprintf(`apiVersion: aquasecurity.github.io/v1alpha1
kind: ConfigAuditReport
metadata:
  name: replicaset-web-5d9c7b6f8
  namespace: shop
  labels: {trivy-operator.resource.kind: ReplicaSet, trivy-operator.resource.name: web-5d9c7b6f8, trivy-operator.resource.namespace: shop}
  %s
report:
  scanner: {name: Trivy, vendor: Aqua Security, version: 0.24.1}
  summary: {criticalCount: 0, highCount: 1, lowCount: 0, mediumCount: 1}
  checks:
    - {checkID: KSV017, title: Privileged container, severity: HIGH, success: false, scope: {type: Container, value: web}}
    - {checkID: KSV001, title: Process can elevate its own privileges, severity: MEDIUM, success: false, scope: {type: Container, value: web}}
`, controller(rs)))
	for _, p := range []*unstructured.Unstructured{pod, debug} {
		create(fmt.Sprintf(`apiVersion: wgpolicyk8s.io/v1alpha2
kind: PolicyReport
metadata:
  name: %[1]s
  namespace: shop
  labels: {app.kubernetes.io/managed-by: kyverno}
  ownerReferences: [{apiVersion: v1, kind: Pod, name: %[2]s, uid: %[1]s}]
scope: {apiVersion: v1, kind: Pod, name: %[2]s, namespace: shop, uid: %[1]s}
results:
  - {policy: disallow-host-namespaces, rule: host-namespaces, result: fail, severity: medium, source: kyverno, message: Sharing the host namespaces is disallowed.}
`, p.GetUID(), p.GetName()))
	}
	create(`apiVersion: openreports.io/v1alpha1
kind: Report
metadata: {name: elsewhere, namespace: other}
source: kyverno
scope: {apiVersion: v1, kind: Pod, name: elsewhere, namespace: other}
results:
  - {policy: disallow-privileged-containers, result: fail, severity: high}
---
apiVersion: wgpolicyk8s.io/v1alpha2
kind: ClusterPolicyReport
metadata: {name: namespaces}
scope: {apiVersion: v1, kind: Namespace, name: shop}
results:
  - {policy: require-ns-labels, result: fail, severity: medium, source: kyverno}
`)

	kubeconfig := srv.Kubeconfig(t)
	code, out, errs := kmend(t, "", "import", "--cluster", "--kubeconfig", kubeconfig, "--context", "kmend-test", "-n", "shop", "-o", "json")
	if code != exitFindings {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	rep := decodeImported(t, out)
	var got []string
	for _, f := range rep.Findings {
		got = append(got, f.Control+" "+f.Object.Kind+"/"+f.Object.Namespace+"/"+f.Object.Name+" "+f.Origin+":"+f.ForeignID)
	}
	want := []string{
		"KM-015 Deployment/shop/web kyverno:disallow-host-namespaces",
		"KM-016 Deployment/shop/web kyverno:disallow-host-namespaces",
		"KM-017 Deployment/shop/web kyverno:disallow-host-namespaces",
		"KM-001 Deployment/shop/web trivy-operator:KSV017",
		"KM-002 Deployment/shop/web trivy-operator:KSV001",
		"KM-015 Pod/shop/debug kyverno:disallow-host-namespaces",
		"KM-016 Pod/shop/debug kyverno:disallow-host-namespaces",
		"KM-017 Pod/shop/debug kyverno:disallow-host-namespaces",
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if !slices.Equal(rep.Inputs, []string{"cluster kmend-test"}) || rep.Summary.Objects != 2 || len(rep.Errors) != 0 {
		t.Errorf("inputs %q, summary %+v, errors %v", rep.Inputs, rep.Summary, rep.Errors)
	}
	for _, f := range rep.Findings {
		if f.Object.Kind == "Deployment" && !strings.Contains(f.Message, "its owner chain in the cluster leads to Deployment/shop/web") {
			t.Errorf("%s: message %q does not say where it was reported", f.Control, f.Message)
		}
	}
	if !strings.Contains(out, `"cluster": "kmend-test"`) || !strings.Contains(out, `"uid": "`+string(dep.GetUID())+`"`) {
		t.Errorf("findings do not name the cluster and the Deployment's UID:\n%s", out)
	}

	// Without -n: the other namespace's Report and the ClusterPolicyReport too.
	code, out, errs = kmend(t, "", "import", "--cluster", "--kubeconfig", kubeconfig, "-o", "json")
	if code != exitFindings {
		t.Fatalf("all namespaces: exit %d\n%s", code, errs)
	}
	rep = decodeImported(t, out)
	if rep.Summary.Objects != 4 || !strings.Contains(out, "EXT-kyverno-require-ns-labels") || !strings.Contains(out, `"name": "elsewhere"`) {
		t.Errorf("all namespaces: summary %+v\n%s", rep.Summary, out)
	}

	if code, _, errs := kmend(t, "", "import", "--cluster", "--kubeconfig", kubeconfig, "reports.yaml"); code != exitError || !strings.Contains(errs, "give no FILE") {
		t.Fatalf("--cluster with a file: exit %d %s", code, errs)
	}
	if code, _, errs := kmend(t, "", "import", "--cluster", "--kubeconfig", filepath.Join(t.TempDir(), "missing")); code != exitError || !strings.Contains(errs, "cluster config") {
		t.Fatalf("--cluster with a missing kubeconfig: exit %d %s", code, errs)
	}
}
