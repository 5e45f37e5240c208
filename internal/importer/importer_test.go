package importer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/finding"
)

const fixtures = "../../fixtures/reports"

func builtin(t *testing.T) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// line renders a finding for comparison: control, object (with API
// version and UID), container, path, severity, fixability, origin and
// foreign ID.
func line(f finding.Finding) string {
	s := fmt.Sprintf("%s %s %s", f.ControlID, f.Object.APIVersion, f.Object)
	if f.Object.UID != "" {
		s += " uid=" + f.Object.UID[:8]
	}
	if f.Container != "" {
		s += " " + strings.TrimPrefix(f.ContainerType+"/", "/") + f.Container
	}
	if f.Path != "" {
		s += " @" + f.Path
	}
	return s + fmt.Sprintf(" %s %s %s:%s", f.Severity, f.Fixability, f.Origin, f.ForeignID)
}

func lines(fs []finding.Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, line(f))
	}
	return out
}

func errLines(es []*EntryError) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.Error())
	}
	return out
}

func TestParseFixtures(t *testing.T) {
	cat := builtin(t)
	for _, tc := range []struct {
		file     string
		findings []string
		unmapped []string
		errors   []string
	}{
		{
			// One Kyverno policy that covers three controls: one finding
			// each; the passing result is no finding.
			file: "kyverno-policyreport.yaml",
			findings: []string{
				"KM-015 v1 Pod/kube-system/kube-apiserver-kind-control-plane uid=487df031 medium review kyverno:disallow-host-namespaces",
				"KM-016 v1 Pod/kube-system/kube-apiserver-kind-control-plane uid=487df031 medium review kyverno:disallow-host-namespaces",
				"KM-017 v1 Pod/kube-system/kube-apiserver-kind-control-plane uid=487df031 medium review kyverno:disallow-host-namespaces",
			},
		},
		{
			// resources[] per result; cluster-scoped report.
			file: "kyverno-clusterpolicyreport.yaml",
			unmapped: []string{
				"EXT-kyverno-require-ns-labels v1 Namespace/kube-node-lease uid=06e5056f medium manual kyverno:require-ns-labels",
			},
		},
		{
			file: "kyverno-resources-policyreport.yaml",
			findings: []string{
				"KM-001 v1 Pod/default/badpod uid=8ef79afd medium review kyverno:disallow-privileged-containers",
				"KM-001 v1 Pod/default/h0nk uid=71a4a8c8 medium review kyverno:disallow-privileged-containers",
			},
		},
		{
			// Pod Security Standards checks from properties (the policy
			// name maps nothing), two rules of one policy merged, warn and
			// error results reported, skip and pass not.
			file: "kyverno-podsecurity.yaml",
			findings: []string{
				"KM-001 apps/v1 Deployment/shop/web uid=5f0c8a7e high review kyverno:privileged",
				"KM-007 apps/v1 Deployment/shop/web uid=5f0c8a7e medium auto kyverno:disallow-capabilities-strict",
				"KM-009 apps/v1 Deployment/shop/web uid=5f0c8a7e medium review kyverno:disallow-capabilities-strict",
				"KM-015 apps/v1 Deployment/shop/web uid=5f0c8a7e high review kyverno:hostNamespaces",
				"KM-016 apps/v1 Deployment/shop/web uid=5f0c8a7e high review kyverno:hostNamespaces",
				"KM-017 apps/v1 Deployment/shop/web uid=5f0c8a7e high review kyverno:hostNamespaces",
				"KM-025 apps/v1 Deployment/shop/web uid=5f0c8a7e medium manual kyverno:require-pod-probes",
				"KM-026 apps/v1 Deployment/shop/web uid=5f0c8a7e medium manual kyverno:require-pod-probes",
				"KM-027 apps/v1 Deployment/shop/web uid=5f0c8a7e medium manual kyverno:disallow-latest-tag",
			},
		},
		{
			// openreports Report in a List; a namespaced Policy's name.
			file: "kyverno-openreports-list.yaml",
			unmapped: []string{
				"EXT-kyverno-require-app-label v1 Pod/default/example-deployment-c94dc9f47-dfq6l uid=dcd32da4 medium manual kyverno:require-app-label",
			},
		},
		{
			file: "kyverno-cli-clusterreport.yaml",
			unmapped: []string{
				"EXT-kyverno-check-deployment-replicas apps/v1 Deployment/default/bad-deployment medium manual kyverno:check-deployment-replicas",
			},
		},
		{
			// Containers named from the embedded object; the file-scan
			// resource ID without an object; a ReplicaSet; severity from
			// the score factor.
			file: "kubescape-results.json",
			findings: []string{
				"KM-001 apps/v1 Deployment/frontend @spec.template.spec.containers[0].securityContext.privileged high review kubescape:C-0057",
				"KM-003 apps/v1 Deployment/shop/web uid=9d0f6c1e containers/app @spec.template.spec.containers[0].securityContext.runAsNonRoot medium review kubescape:C-0013",
				"KM-004 apps/v1 Deployment/shop/web uid=9d0f6c1e containers/app @spec.template.spec.containers[0].securityContext.runAsNonRoot medium review kubescape:C-0013",
				"KM-005 apps/v1 Deployment/shop/web uid=9d0f6c1e containers/app @spec.template.spec.containers[0].securityContext.runAsNonRoot medium review kubescape:C-0013",
				"KM-001 apps/v1 Deployment/shop/web uid=9d0f6c1e containers/log-shipper @spec.template.spec.containers[1].securityContext.privileged high review kubescape:C-0057",
				"KM-023 apps/v1 ReplicaSet/shop/web-5d9c7b6f8 uid=3f9a1c2e containers/app @spec.template.spec.containers[0].resources.limits.cpu high review kubescape:C-0270",
			},
			unmapped: []string{
				"EXT-kubescape-C-0054 v1 Namespace/shop medium manual kubescape:C-0054",
			},
		},
		{
			// The ReplicaSet as labelled, with the owner reference's API
			// version and UID; the AVD spelling; one check for two
			// controls; a passing check is no finding.
			file: "trivy-configauditreports-list.yaml",
			findings: []string{
				"KM-002 v1 Pod/shop/debug uid=7a6b5c4d debug medium auto trivy-operator:KSV001",
				"KM-001 apps/v1 ReplicaSet/shop/web-5d9c7b6f8 uid=3f9a1c2e high review trivy-operator:KSV017",
				"KM-007 apps/v1 ReplicaSet/shop/web-5d9c7b6f8 uid=3f9a1c2e low auto trivy-operator:KSV106",
				"KM-009 apps/v1 ReplicaSet/shop/web-5d9c7b6f8 uid=3f9a1c2e low review trivy-operator:KSV106",
				"KM-006 apps/v1 ReplicaSet/shop/web-5d9c7b6f8 uid=3f9a1c2e app low review trivy-operator:AVD-KSV-0014",
			},
			unmapped: []string{
				"EXT-trivy-KSV117 apps/v1 ReplicaSet/shop/web-5d9c7b6f8 uid=3f9a1c2e high manual trivy-operator:KSV117",
			},
		},
		{
			// trivy-operator's documentation sample carries Polaris-style
			// check IDs under scanner Trivy: nothing maps, nothing is
			// guessed.
			file: "trivy-configauditreport.yaml",
			unmapped: []string{
				"EXT-trivy-notReadOnlyRootFilesystem apps/v1 ReplicaSet/default/nginx-6d4cf56db6 uid=aa345200 nginx low manual trivy-operator:notReadOnlyRootFilesystem",
				"EXT-trivy-privilegeEscalationAllowed apps/v1 ReplicaSet/default/nginx-6d4cf56db6 uid=aa345200 nginx critical manual trivy-operator:privilegeEscalationAllowed",
			},
		},
		{
			// Bad entries are reported with where they are; the rest is read.
			file: "malformed.yaml",
			findings: []string{
				"KM-001 apps/v1 Deployment/shop/web medium review kyverno:disallow-privileged-containers",
				"KM-019 apps/v1 Deployment/shop/web medium manual kyverno:disallow-host-ports",
				"KM-002  Pod/shop/debug medium auto trivy-operator:KSV001",
			},
			errors: []string{
				"malformed.yaml:8: document 0, results[1]: resources: want a list, got a string",
				`malformed.yaml:8: document 0, results[3]: unknown result "failed" (want pass, fail, warn, error or skip)`,
				"malformed.yaml:43: document 1: v1 ConfigMap: " + ErrNotAReport.Error(),
				"malformed.yaml:51: document 2, report.checks[0]: success: want true or false, got a string",
			},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			res, err := Parse(tc.file, fixture(t, tc.file), cat)
			if err != nil {
				t.Fatal(err)
			}
			for name, got := range map[string][]string{"findings": lines(res.Findings), "unmapped": lines(res.Unmapped), "errors": errLines(res.Errors)} {
				want := map[string][]string{"findings": tc.findings, "unmapped": tc.unmapped, "errors": tc.errors}[name]
				if want == nil {
					want = []string{}
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s:\n  got  %s\n  want %s", name, strings.Join(got, "\n       "), strings.Join(want, "\n       "))
				}
			}
			for _, f := range res.Findings {
				c, ok := cat.Get(f.ControlID)
				if !ok || f.Title != c.Title || f.Reason != finding.ReasonReported || f.Message == "" {
					t.Errorf("%s: title %q, reason %q, message %q: want the control's title, reason reported and the report's text", line(f), f.Title, f.Reason, f.Message)
				}
			}
			for _, f := range res.Unmapped {
				if !strings.HasPrefix(f.ControlID, ExtPrefix) || f.Title == "" || f.Message == "" || f.Reason != finding.ReasonReported {
					t.Errorf("unmapped %s: title %q, message %q", line(f), f.Title, f.Message)
				}
			}
		})
	}
}

// The report's own text is kept: message and, for unmapped results, title.
func TestTextFromTheReport(t *testing.T) {
	cat := builtin(t)
	res, err := Parse("t", fixture(t, "kyverno-podsecurity.yaml"), cat)
	if err != nil {
		t.Fatal(err)
	}
	var km007 []finding.Finding
	for _, f := range res.Findings {
		if f.ControlID == "KM-007" {
			km007 = append(km007, f)
		}
	}
	// Two rules of disallow-capabilities-strict failed: one finding, both
	// messages.
	if len(km007) != 1 || !strings.Contains(km007[0].Message, "autogen-require-drop-all") || !strings.Contains(km007[0].Message, "autogen-adding-capabilities-strict") {
		t.Errorf("KM-007 = %+v", km007)
	}

	res, err = Parse("t", fixture(t, "trivy-configauditreports-list.yaml"), cat)
	if err != nil {
		t.Fatal(err)
	}
	u := res.Unmapped[0]
	if u.Title != "Prevent binding to privileged ports" || !strings.HasPrefix(u.Message, "replicaset web-5d9c7b6f8 in shop namespace should not set") {
		t.Errorf("unmapped = %q: %q", u.Title, u.Message)
	}

	res, err = Parse("t", fixture(t, "kubescape-results.json"), cat)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Findings[0].Message; got != "Privileged container (failed at spec.template.spec.containers[0].securityContext.privileged)" {
		t.Errorf("kubescape message = %q", got)
	}
}

func TestOwners(t *testing.T) {
	cat := builtin(t)
	rs := finding.ObjectRef{APIVersion: "apps/v1", Kind: "ReplicaSet", Namespace: "shop", Name: "web-5d9c7b6f8", UID: "3f9a1c2e-7b44-4f0e-9d61-0c2b8e5a7f13"}
	for _, tc := range []struct {
		file string
		want []Owner
	}{
		// trivy-operator: the report is owned by the audited ReplicaSet;
		// its Deployment is left for a later stage to find.
		{"trivy-configauditreports-list.yaml", []Owner{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-5d9c7b6f8", UID: "3f9a1c2e-7b44-4f0e-9d61-0c2b8e5a7f13", Controller: true, From: OwnerFromReport}}},
		// Kubescape embeds the ReplicaSet, whose owner is the Deployment.
		{"kubescape-results.json", []Owner{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: "9d0f6c1e-52a4-4c8b-a7b1-3e0c9a4f8d21", Controller: true, From: OwnerFromObject}}},
	} {
		res, err := Parse(tc.file, fixture(t, tc.file), cat)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Owners[rs]; !slices.Equal(got, tc.want) {
			t.Errorf("%s: owners of %s = %+v, want %+v", tc.file, rs, got, tc.want)
		}
		for _, f := range append(res.Findings, res.Unmapped...) {
			if f.Object.Kind == "Deployment" && f.Object.Name == "web-5d9c7b6f8" || f.Object.Kind == "Deployment" && tc.file == "trivy-configauditreports-list.yaml" {
				t.Errorf("%s: a Deployment was guessed: %s", tc.file, line(f))
			}
		}
	}
}

// Each way of naming a control maps as the catalog says, one-to-many
// included; what maps nothing is listed as EXT-.
func TestForeignIDMapping(t *testing.T) {
	cat := builtin(t)
	trivy := func(id string) string {
		return `apiVersion: aquasecurity.github.io/v1alpha1
kind: ConfigAuditReport
metadata:
  name: pod-x
  namespace: ns
  labels: {trivy-operator.resource.kind: Pod, trivy-operator.resource.name: x, trivy-operator.resource.namespace: ns}
report:
  scanner: {name: Trivy}
  checks:
  - {checkID: "` + id + `", severity: HIGH, success: false, title: t}
`
	}
	polr := func(result string) string {
		return `apiVersion: wgpolicyk8s.io/v1alpha2
kind: PolicyReport
metadata: {name: r, namespace: ns}
scope: {apiVersion: v1, kind: Pod, name: x, namespace: ns}
results:
- ` + result + "\n"
	}
	kubescape := func(id string) string {
		return `{"summaryDetails": {"controls": {}}, "results": [{"resourceID": "/v1/ns/Pod/x", "controls": [{"controlID": "` + id + `", "status": {"status": "failed"}}]}]}`
	}
	for _, tc := range []struct {
		name, report string
		want         []string // control IDs, in order
	}{
		{"trivy KSV", trivy("KSV017"), []string{"KM-001"}},
		{"trivy AVD", trivy("AVD-KSV-0017"), []string{"KM-001"}},
		{"trivy lower case", trivy("ksv017"), []string{"KM-001"}},
		{"trivy one-to-many", trivy("KSV106"), []string{"KM-007", "KM-009"}},
		{"trivy four digits are not AVD", trivy("KSV0017"), []string{"EXT-trivy-KSV0017"}},
		{"trivy unknown", trivy("KSV999"), []string{"EXT-trivy-KSV999"}},
		{"kubescape", kubescape("C-0057"), []string{"KM-001"}},
		{"kubescape one-to-many", kubescape("C-0038"), []string{"KM-016", "KM-017"}},
		{"kubescape three", kubescape("C-0013"), []string{"KM-003", "KM-004", "KM-005"}},
		{"kubescape unknown", kubescape("C-0054"), []string{"EXT-kubescape-C-0054"}},
		{"kyverno policy", polr("{policy: disallow-privileged-containers, rule: privileged-containers, result: fail, source: kyverno}"), []string{"KM-001"}},
		{"kyverno namespaced policy", polr("{policy: team-a/disallow-privilege-escalation, rule: r, result: fail, source: kyverno}"), []string{"KM-002"}},
		{"kyverno policy before pss", polr("{policy: disallow-privilege-escalation, rule: r, result: fail, source: kyverno, properties: {controls: privileged}}"), []string{"KM-002"}},
		{"kyverno pss controls", polr("{policy: psa, rule: restricted, result: fail, source: kyverno, properties: {controls: 'runAsNonRoot, seccompProfile_restricted'}}"), []string{"KM-003", "KM-010"}},
		{"kyverno CEL policy", polr("{policy: disallow-host-ports, result: fail, source: KyvernoValidatingPolicy}"), []string{"KM-019"}},
		{"kyverno by report label", `apiVersion: wgpolicyk8s.io/v1alpha2
kind: PolicyReport
metadata: {name: r, namespace: ns, labels: {app.kubernetes.io/managed-by: kyverno}}
scope: {apiVersion: v1, kind: Pod, name: x, namespace: ns}
results:
- {policy: disallow-proc-mount, result: fail}
`, []string{"KM-013"}},
		{"openreports report source", `apiVersion: openreports.io/v1alpha1
kind: Report
metadata: {name: r, namespace: ns}
source: kyverno
scope: {apiVersion: v1, kind: Pod, name: x, namespace: ns}
results:
- {policy: disallow-selinux, result: fail}
`, []string{"KM-012"}},
		{"trivy adapter by rule", polr("{policy: Unsafe sysctl options set, rule: KSV026, result: fail, source: Trivy ConfigAudit, severity: medium}"), []string{"KM-014"}},
		{"kyverno unknown policy", polr("{policy: require-labels, rule: check, result: fail, source: kyverno}"), []string{"EXT-kyverno-require-labels"}},
		{"unknown source maps nothing", polr("{policy: disallow-privileged-containers, result: fail, source: kube-bench}"), []string{"EXT-kube-bench-disallow-privileged-containers"}},
		{"no source maps nothing", polr("{policy: disallow-privileged-containers, result: fail}"), []string{"EXT-policyreport-disallow-privileged-containers"}},
		{"odd characters", polr("{policy: '4.1 Worker Node Configuration Files', rule: 4.1.1 Ensure, result: fail, source: Trivy CIS Kube Bench}"), []string{"EXT-trivy-4.1.1-Ensure"}},
		{"legacy status field", polr("{policy: disallow-host-path, status: fail, source: kyverno}"), []string{"KM-018"}},
		{"pass is no finding", polr("{policy: disallow-host-path, result: pass, source: kyverno}"), nil},
		{"skip is no finding", polr("{policy: disallow-host-path, result: skip, source: kyverno}"), nil},
		{"warn is a finding", polr("{policy: disallow-host-path, result: warn, source: kyverno}"), []string{"KM-018"}},
		{"error is a finding", polr("{policy: disallow-host-path, result: error, source: kyverno}"), []string{"KM-018"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Parse(tc.name, []byte(tc.report), cat)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Errors) > 0 {
				t.Fatalf("errors: %v", errLines(res.Errors))
			}
			var got []string
			for _, f := range append(res.Findings, res.Unmapped...) {
				got = append(got, f.ControlID)
				if f.Object.String() != "Pod/ns/x" {
					t.Errorf("%s: object %s, want Pod/ns/x", f.ControlID, f.Object)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("controls = %v, want %v", got, tc.want)
			}
		})
	}
}

// A catalog that lists a Trivy check in one spelling matches the other.
func TestTrivyIDSpellings(t *testing.T) {
	cat, err := catalog.New(
		&catalog.Control{ID: "KM-900", Title: "short form only", Severity: finding.SeverityHigh, ForeignIDs: catalog.ForeignIDs{Trivy: []string{"KSV017"}}},
		&catalog.Control{ID: "KM-901", Title: "AVD form only", Severity: finding.SeverityLow, ForeignIDs: catalog.ForeignIDs{Trivy: []string{"AVD-KSV-0014"}}},
	)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{
		"KSV017": "KM-900", "AVD-KSV-0017": "KM-900", "avd-ksv-0017": "KM-900",
		"KSV014": "KM-901", "AVD-KSV-0014": "KM-901",
		"AVD-KSV-1017": "EXT-trivy-AVD-KSV-1017", "KSV-017": "EXT-trivy-KSV-017",
	} {
		report := `{"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "ConfigAuditReport",
  "metadata": {"name": "pod-x", "namespace": "ns", "labels": {"trivy-operator.resource.kind": "Pod", "trivy-operator.resource.name": "x"}},
  "report": {"checks": [{"checkID": "` + id + `", "success": false}]}}`
		res, err := Parse(id, []byte(report), cat)
		if err != nil {
			t.Fatal(err)
		}
		all := append(res.Findings, res.Unmapped...)
		if len(all) != 1 || all[0].ControlID != want {
			t.Errorf("%s: %v, want %s", id, lines(all), want)
		}
		if len(all) == 1 && all[0].Object.Namespace != "ns" {
			t.Errorf("%s: namespace %q, want the report's (ns)", id, all[0].Object.Namespace)
		}
	}
}

func TestSeverity(t *testing.T) {
	cat := builtin(t)
	for _, tc := range []struct {
		name, report string
		want         finding.Severity
	}{
		{"report's severity wins over the control's", `apiVersion: wgpolicyk8s.io/v1alpha2
kind: PolicyReport
metadata: {name: r}
scope: {kind: Pod, name: x}
results: [{policy: disallow-privileged-containers, result: fail, source: kyverno, severity: low}]`, finding.SeverityLow},
		{"the control's when the report has none", `apiVersion: wgpolicyk8s.io/v1alpha2
kind: PolicyReport
metadata: {name: r}
scope: {kind: Pod, name: x}
results: [{policy: disallow-privileged-containers, result: fail, source: kyverno}]`, finding.SeverityCritical},
		{"medium for an unmapped result without one", `apiVersion: wgpolicyk8s.io/v1alpha2
kind: PolicyReport
metadata: {name: r}
scope: {kind: Pod, name: x}
results: [{policy: team-label, result: fail, source: kyverno}]`, finding.SeverityMedium},
		{"trivy UNKNOWN is none", `{"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "ConfigAuditReport", "metadata": {"name": "p", "labels": {"trivy-operator.resource.kind": "Pod", "trivy-operator.resource.name": "x"}},
  "report": {"checks": [{"checkID": "KSV001", "severity": "UNKNOWN", "success": false}]}}`, finding.SeverityHigh},
		{"kubescape score factor 9 is critical", `{"summaryDetails": {"controls": {"C-0057": {"scoreFactor": 9}}}, "results": [{"resourceID": "/v1/ns/Pod/x", "controls": [{"controlID": "C-0057", "status": {"status": "failed"}}]}]}`, finding.SeverityCritical},
		{"kubescape score factor 7 is high", `{"summaryDetails": {"controls": {"C-0057": {"scoreFactor": 7}}}, "results": [{"resourceID": "/v1/ns/Pod/x", "controls": [{"controlID": "C-0057", "status": {"status": "failed"}}]}]}`, finding.SeverityHigh},
		{"kubescape score factor 1 is low", `{"summaryDetails": {"controls": {"C-0057": {"scoreFactor": 1}}}, "results": [{"resourceID": "/v1/ns/Pod/x", "controls": [{"controlID": "C-0057", "status": {"status": "failed"}}]}]}`, finding.SeverityLow},
		{"kubescape severity text wins", `{"summaryDetails": {"controls": {"C-0057": {"scoreFactor": 9}}}, "results": [{"resourceID": "/v1/ns/Pod/x", "controls": [{"controlID": "C-0057", "severity": "Medium", "status": "failed"}]}]}`, finding.SeverityMedium},
	} {
		res, err := Parse(tc.name, []byte(tc.report), cat)
		if err != nil {
			t.Fatal(err)
		}
		all := append(res.Findings, res.Unmapped...)
		if len(all) != 1 || all[0].Severity != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, lines(all), tc.want)
		}
	}
}

func TestParseResourceID(t *testing.T) {
	for _, tc := range []struct{ id, want string }{
		{"apps/v1/default/Deployment/web", "apps/v1 Deployment/default/web"},
		{"/v1/default/Pod/x", "v1 Pod/default/x"},
		{"/v1//Namespace/shop", "v1 Namespace/shop"},
		{"rbac.authorization.k8s.io/v1//ClusterRole/admin", "rbac.authorization.k8s.io/v1 ClusterRole/admin"},
		{"v1/default/Pod/x", "v1 Pod/default/x"},
		{"path=104434024/api=apps/v1//Deployment/frontend", "apps/v1 Deployment/frontend"},
		{"path=1173959838/api=/v1//Pod/exclusive-4", "v1 Pod/exclusive-4"},
		{"/default/ServiceAccount/elasticsearch/path=4015877034/api=rbac.authorization.k8s.io/v1//Role/elasticsearch", " ServiceAccount/default/elasticsearch"},
		{"Deployment/web", "error"},
		{"apps/v1/default/Deployment/", "error"},
	} {
		ref, err := parseResourceID(tc.id)
		got := ref.APIVersion + " " + ref.String()
		if err != nil {
			got = "error"
		}
		if got != tc.want {
			t.Errorf("parseResourceID(%q) = %q (%v), want %q", tc.id, got, err, tc.want)
		}
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input string
		want  Format
		err   error // wrapped, when not nil
	}{
		{"policyreport", string(fixture(t, "kyverno-policyreport.yaml")), FormatPolicyReport, nil},
		{"clusterpolicyreport", string(fixture(t, "kyverno-clusterpolicyreport.yaml")), FormatPolicyReport, nil},
		{"openreports list", string(fixture(t, "kyverno-openreports-list.yaml")), FormatOpenReports, nil},
		{"openreports clusterreport", string(fixture(t, "kyverno-cli-clusterreport.yaml")), FormatOpenReports, nil},
		{"kubescape", string(fixture(t, "kubescape-results.json")), FormatKubescape, nil},
		{"trivy", string(fixture(t, "trivy-configauditreport.yaml")), FormatTrivyOperator, nil},
		{"trivy list", string(fixture(t, "trivy-configauditreports-list.yaml")), FormatTrivyOperator, nil},
		{"mixed documents", string(fixture(t, "malformed.yaml")), FormatMixed, nil},
		{"json policyreport list", `{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport", "results": []}]}`, FormatPolicyReport, nil},
		{"typed list", "apiVersion: aquasecurity.github.io/v1alpha1\nkind: ConfigAuditReportList\nitems:\n- {apiVersion: aquasecurity.github.io/v1alpha1, kind: ConfigAuditReport}\n", FormatTrivyOperator, nil},
		{"v1beta1", "apiVersion: wgpolicyk8s.io/v1beta1\nkind: PolicyReport\n", FormatPolicyReport, nil},
		{"kubescape without summary", `{"results": [{"resourceID": "/v1/ns/Pod/x", "controls": []}]}`, FormatKubescape, nil},
		{"yaml flow that is not json", "{apiVersion: wgpolicyk8s.io/v1alpha2, kind: PolicyReport}", FormatPolicyReport, nil},
		{"leading comments and empty documents", "# reports\n---\n---\napiVersion: openreports.io/v1alpha1\nkind: ClusterReport\n", FormatOpenReports, nil},
		{"a manifest", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n", FormatUnknown, ErrNotAReport},
		{"vulnerability report", "apiVersion: aquasecurity.github.io/v1alpha1\nkind: VulnerabilityReport\n", FormatUnknown, ErrNotAReport},
		{"other json", `{"results": [{"id": 1}]}`, FormatUnknown, ErrNotAReport},
		{"empty", "", FormatUnknown, nil},
		{"broken yaml", "apiVersion: [\n", FormatUnknown, nil},
		{"broken json", `{"apiVersion": `, FormatUnknown, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Detect([]byte(tc.input))
			if got != tc.want {
				t.Errorf("Detect = %q (%v), want %q", got, err, tc.want)
			}
			switch {
			case tc.want != FormatUnknown && err != nil:
				t.Errorf("unexpected error %v", err)
			case tc.want == FormatUnknown && err == nil:
				t.Error("no error for input that is not a report")
			case tc.err != nil && !errors.Is(err, tc.err):
				t.Errorf("error %v, want %v", err, tc.err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	cat := builtin(t)
	for _, tc := range []struct{ name, input, want string }{
		{"empty", "", "empty input"},
		{"comments only", "# nothing\n", "empty input"},
		{"not a report", "apiVersion: v1\nkind: ConfigMap\n", ErrNotAReport.Error()},
		{"broken json", `{"results": [`, "invalid JSON"},
		{"broken yaml", "kind: [\n", "yaml:"},
	} {
		res, err := Parse(tc.name, []byte(tc.input), cat)
		if err == nil || res != nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), tc.name+": ") {
			t.Errorf("%s: Parse = %v, %v; want an error naming the input and saying %q", tc.name, res, err, tc.want)
		}
	}
}

// A YAML document that does not parse stops the stream, but the reports
// before it are kept and the error says where.
func TestBrokenDocumentKeepsEarlierOnes(t *testing.T) {
	input := string(fixture(t, "kyverno-policyreport.yaml")) + "---\napiVersion: wgpolicyk8s.io/v1alpha2\nkind: PolicyReport\nresults: [\n"
	res, err := Parse("cut.yaml", []byte(input), builtin(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 3 {
		t.Errorf("findings = %v, want the three of the first document", lines(res.Findings))
	}
	if len(res.Errors) != 1 || res.Errors[0].Document != 1 || !strings.Contains(res.Errors[0].Error(), "yaml:") {
		t.Errorf("errors = %v, want one for document 1", errLines(res.Errors))
	}
}

// Malformed entries of each format are reported by index; the entries
// after them are read.
func TestMalformedEntries(t *testing.T) {
	cat := builtin(t)
	for _, tc := range []struct {
		name, input string
		entries     []string // Entry of each error
		findings    int
	}{
		{"policyreport result not an object", `apiVersion: wgpolicyk8s.io/v1alpha2
kind: PolicyReport
scope: {kind: Pod, name: x}
results:
- just text
- {policy: disallow-host-path, source: kyverno}
- {policy: disallow-host-path, result: fail, source: kyverno}
`, []string{"results[0]", "results[1]"}, 1},
		{"kubescape", `{"results": [
  {"resourceID": "/v1/ns/Pod/x", "controls": "C-0057"},
  {"resourceID": "Pod/x", "controls": []},
  {"resourceID": "/v1/ns/Pod/y", "controls": [{"status": {"status": "failed"}}, {"controlID": "C-0057", "status": {"status": "failed"}}]}
]}`, []string{"results[0]", "results[1]", "results[2].controls[0]"}, 1},
		{"trivy checks", `apiVersion: aquasecurity.github.io/v1alpha1
kind: ConfigAuditReport
metadata: {name: p, labels: {trivy-operator.resource.kind: Pod, trivy-operator.resource.name: x}}
report:
  checks:
  - {checkID: KSV001}
  - {success: false}
  - [KSV001]
  - {checkID: KSV001, success: false, messages: {a: b}}
  - {checkID: KSV017, success: false}
`, []string{"report.checks[0]", "report.checks[1]", "report.checks[2]", "report.checks[3]"}, 1},
		{"trivy without a resource", `apiVersion: aquasecurity.github.io/v1alpha1
kind: ConfigAuditReport
metadata: {name: p}
report: {checks: [{checkID: KSV017, success: false}]}
---
apiVersion: aquasecurity.github.io/v1alpha1
kind: ConfigAuditReport
metadata: {name: p2, namespace: ns, ownerReferences: [{apiVersion: v1, kind: Pod, name: y, uid: u1, controller: true}]}
report: {checks: [{checkID: KSV017, success: false}]}
`, []string{""}, 1},
		{"list item not an object", `{"apiVersion": "v1", "kind": "List", "items": [42, {"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport", "scope": {"kind": "Pod", "name": "x"}, "results": [{"policy": "disallow-host-path", "result": "fail", "source": "kyverno"}]}]}`, []string{"items[0]"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Parse(tc.name, []byte(tc.input), cat)
			if err != nil {
				t.Fatal(err)
			}
			var entries []string
			for _, e := range res.Errors {
				entries = append(entries, e.Entry)
			}
			if !slices.Equal(entries, tc.entries) {
				t.Errorf("errors at %q, want %q:\n%s", entries, tc.entries, strings.Join(errLines(res.Errors), "\n"))
			}
			if len(res.Findings) != tc.findings {
				t.Errorf("findings = %v, want %d", lines(res.Findings), tc.findings)
			}
		})
	}
}

// A result that names no resource, in a report without a scope, is listed
// against the report itself rather than dropped.
func TestResultWithoutResource(t *testing.T) {
	res, err := Parse("t", []byte(`apiVersion: wgpolicyk8s.io/v1alpha2
kind: ClusterPolicyReport
metadata: {name: trivy-cis-cpolr-node-1}
results:
- {policy: 4.1 Worker Node Configuration Files, rule: 4.1.1 Ensure that the kubelet service file permissions are set to 644, result: fail, source: Trivy CIS Kube Bench}
`), builtin(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Unmapped) != 1 || res.Unmapped[0].Object.String() != "ClusterPolicyReport/trivy-cis-cpolr-node-1" ||
		res.Unmapped[0].Object.APIVersion != "wgpolicyk8s.io/v1alpha2" || res.Unmapped[0].Origin != "trivy-cis-kube-bench" {
		t.Errorf("unmapped = %v", lines(res.Unmapped))
	}
}

func TestScoreAndObjects(t *testing.T) {
	cat := builtin(t)
	res, err := Parse("t", fixture(t, "kyverno-policyreport.yaml"), cat)
	if err != nil {
		t.Fatal(err)
	}
	// KM-036 (medium, 3) passed; KM-015/016/017 (high, 6 each) failed.
	if got := res.Score(cat); got != 14.3 {
		t.Errorf("score = %v, want 14.3", got)
	}
	if got := res.Checked[Pair{Object: res.Findings[0].Object, ControlID: "KM-036"}]; got {
		t.Error("KM-036 passed in the report")
	}
	if got := (&Result{}).Score(cat); got != 100 {
		t.Errorf("empty score = %v, want 100", got)
	}
	res, err = Parse("t", fixture(t, "kubescape-results.json"), cat)
	if err != nil {
		t.Fatal(err)
	}
	var objs []string
	for _, o := range res.Objects() {
		objs = append(objs, o.String())
	}
	if want := []string{"Deployment/frontend", "Deployment/shop/web", "Namespace/shop", "ReplicaSet/shop/web-5d9c7b6f8"}; !slices.Equal(objs, want) {
		t.Errorf("objects = %v, want %v", objs, want)
	}
	var ids []string
	for _, c := range res.Controls(cat) {
		ids = append(ids, c.ID)
	}
	if want := []string{"KM-001", "KM-003", "KM-004", "KM-005", "KM-023"}; !slices.Equal(ids, want) {
		t.Errorf("controls = %v, want %v", ids, want)
	}
}

func TestMerge(t *testing.T) {
	cat := builtin(t)
	a, err := Parse("a", fixture(t, "kyverno-policyreport.yaml"), cat)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse("b", fixture(t, "malformed.yaml"), cat)
	if err != nil {
		t.Fatal(err)
	}
	m := Merge(a, a, b, nil)
	if len(m.Findings) != len(a.Findings)+len(b.Findings) {
		t.Errorf("merged findings = %d, want %d (the same report twice is one)", len(m.Findings), len(a.Findings)+len(b.Findings))
	}
	if len(m.Errors) != len(b.Errors) || len(m.Owners) != len(a.Owners)+len(b.Owners) {
		t.Errorf("merged errors %d, owners %d", len(m.Errors), len(m.Owners))
	}
	for i := 1; i < len(m.Findings); i++ {
		if finding.Compare(m.Findings[i-1], m.Findings[i]) > 0 {
			t.Errorf("merged findings are not sorted at %d", i)
		}
	}
}

func TestExtID(t *testing.T) {
	for _, tc := range [][3]string{
		{"kyverno", "require-labels", "EXT-kyverno-require-labels"},
		{"trivy-cis-kube-bench", "4.1 Worker Node / Files", "EXT-trivy-cis-kube-bench-4.1-Worker-Node-Files"},
		{"", "", "EXT-unknown-result"},
		{"x", strings.Repeat("a", 100), "EXT-x-" + strings.Repeat("a", 80)},
	} {
		if got := extID(tc[0], tc[1]); got != tc[2] {
			t.Errorf("extID(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
}
