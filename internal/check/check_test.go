package check_test

import (
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
)

func builtin(t *testing.T, ids ...string) []*catalog.Control {
	t.Helper()
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := cat.Select(ids)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func object(t *testing.T, src string) manifest.Object {
	t.Helper()
	n, err := yaml.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	ref, ok := manifest.ObjectRefOf(n)
	if !ok {
		t.Fatal("not an object")
	}
	return manifest.Object{Node: n, Ref: ref, Pos: finding.Position{File: "x.yaml", Line: 1}}
}

type got struct {
	control, container string
	reason             finding.Reason
	observed, path     string
}

func run(t *testing.T, controls []*catalog.Control, src string) []got {
	t.Helper()
	var out []got
	for _, r := range check.Run(controls, object(t, src), check.Options{}) {
		if r.Finding.Suppression != nil {
			continue
		}
		out = append(out, got{r.Finding.ControlID, r.Finding.Container, r.Finding.Reason, r.Finding.Observed, r.Finding.Path})
	}
	return out
}

// TestReasons covers the three reasons on every container type and through
// every kind's pod template.
func TestReasons(t *testing.T) {
	cs := builtin(t, "KM-003")
	src := `apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          securityContext:
            runAsNonRoot: false
          initContainers:
            - name: init
          containers:
            - name: own
              securityContext: {runAsNonRoot: false}
            - name: ok
              securityContext: {runAsNonRoot: true}
          ephemeralContainers:
            - name: debug
`
	want := []got{
		{"KM-003", "own", finding.ReasonRisky, "false", "spec.jobTemplate.spec.template.spec.containers[0].securityContext.runAsNonRoot"},
		{"KM-003", "init", finding.ReasonInherited, "false", "spec.jobTemplate.spec.template.spec.securityContext.runAsNonRoot"},
		{"KM-003", "debug", finding.ReasonInherited, "false", "spec.jobTemplate.spec.template.spec.securityContext.runAsNonRoot"},
	}
	g := run(t, cs, src)
	if len(g) != len(want) {
		t.Fatalf("got %+v, want %+v", g, want)
	}
	for _, w := range want {
		found := false
		for _, x := range g {
			found = found || x == w
		}
		if !found {
			t.Errorf("missing %+v in %+v", w, g)
		}
	}
	g = run(t, cs, `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: a}]
`)
	if len(g) != 1 || g[0].reason != finding.ReasonUnset || g[0].path != "spec.containers[0].securityContext.runAsNonRoot" {
		t.Fatalf("unset: %+v", g)
	}
}

func TestEveryWorkloadKind(t *testing.T) {
	cs := builtin(t, "KM-001")
	pod := "spec:\n  containers:\n    - name: a\n      securityContext: {privileged: true}\n"
	indent := func(s, p string) string {
		return p + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+p) + "\n"
	}
	for kind, wrap := range map[string]string{
		"Pod":                   pod,
		"Deployment":            "spec:\n  template:\n" + indent(pod, "    "),
		"StatefulSet":           "spec:\n  template:\n" + indent(pod, "    "),
		"DaemonSet":             "spec:\n  template:\n" + indent(pod, "    "),
		"ReplicaSet":            "spec:\n  template:\n" + indent(pod, "    "),
		"ReplicationController": "spec:\n  template:\n" + indent(pod, "    "),
		"Job":                   "spec:\n  template:\n" + indent(pod, "    "),
		"CronJob":               "spec:\n  jobTemplate:\n    spec:\n      template:\n" + indent(pod, "        "),
	} {
		src := "apiVersion: v1\nkind: " + kind + "\nmetadata: {name: x}\n" + wrap
		if g := run(t, cs, src); len(g) != 1 || g[0].reason != finding.ReasonRisky {
			t.Errorf("%s: %+v", kind, g)
		}
	}
	if g := run(t, cs, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {privileged: 'true'}\n"); len(g) != 0 {
		t.Errorf("ConfigMap checked: %+v", g)
	}
}

func TestYAML11BooleansAndDeliberateComments(t *testing.T) {
	cs := builtin(t, "KM-002", "KM-016")
	src := `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  hostPID: yes
  containers:
    - name: a
      securityContext:
        # the HSM driver needs it
        allowPrivilegeEscalation: true
`
	rs := check.Run(cs, object(t, src), check.Options{})
	if len(rs) != 2 {
		t.Fatalf("got %d results", len(rs))
	}
	for _, r := range rs {
		switch r.Finding.ControlID {
		case "KM-016":
			if r.Finding.Observed != "true" || r.Finding.Fixability != r.Control.Fix.Fixability {
				t.Errorf("hostPID yes: %+v", r.Finding)
			}
		case "KM-002":
			if r.Finding.Fixability != finding.FixReview || !strings.Contains(r.Finding.ReviewNote, "the HSM driver needs it") {
				t.Errorf("a commented risky value must need review: %+v", r.Finding)
			}
			if r.Finding.Position.Line != 10 {
				t.Errorf("line %d, want 10", r.Finding.Position.Line)
			}
		}
	}
}

func TestExemptions(t *testing.T) {
	cs := builtin(t, "KM-001", "KM-002")
	base := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
  annotations:
ANNOTATION
spec:
  template:
    spec:
      containers:
        - name: a
          securityContext: {privileged: true, allowPrivilegeEscalation: true}
`
	for _, tc := range []struct {
		annotation string
		exempt     []string
	}{
		{`    exempt.kmend.dev/KM-001: "the HSM driver"`, []string{"KM-001"}},
		{`    polaris.fairwinds.com/exempt: "true"`, []string{"KM-001", "KM-002"}},
		{`    polaris.fairwinds.com/privilegeEscalationAllowed-exempt: "true"`, []string{"KM-002"}},
		{`    checkov.io/skip1: CKV_K8S_16=needed`, []string{"KM-001"}},
		{`    kubescape.io/ignore: "true"`, []string{"KM-001", "KM-002"}},
		{`    kube-score/ignore: container-security-context-privileged`, []string{"KM-001"}},
		{`    unrelated: "x"`, nil},
	} {
		src := strings.Replace(base, "ANNOTATION", tc.annotation, 1)
		var exempt []string
		for _, r := range check.Run(cs, object(t, src), check.Options{}) {
			if r.Finding.Suppression != nil {
				exempt = append(exempt, r.Finding.ControlID)
			}
		}
		if strings.Join(exempt, ",") != strings.Join(tc.exempt, ",") {
			t.Errorf("%s: exempt %v, want %v", tc.annotation, exempt, tc.exempt)
		}
	}
}

func TestImageTag(t *testing.T) {
	for ref, want := range map[string]string{
		"nginx":                       "",
		"nginx:latest":                "latest",
		"registry:5000/team/app":      "",
		"registry:5000/team/app:1.2":  "1.2",
		"app@sha256:abc":              "@digest",
		"app:1.2@sha256:abc":          "1.2",
		"ghcr.io/org/app:v1.0.0-rc.1": "v1.0.0-rc.1",
	} {
		if got := check.ImageTag(ref); got != want {
			t.Errorf("ImageTag(%q) = %q, want %q", ref, got, want)
		}
	}
}

func TestSensitiveValuesAreRedacted(t *testing.T) {
	src := `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - name: a
      env:
        - {name: DB_PASSWORD, value: "s3cr3t-Passw0rd"}
        - {name: DB_HOST, value: db}
`
	rs := check.Run(builtin(t, "KM-031"), object(t, src), check.Options{})
	if len(rs) != 1 {
		t.Fatalf("%d results", len(rs))
	}
	f := rs[0].Finding
	if f.Observed != check.Redacted || strings.Contains(f.Message, "s3cr3t") || rs[0].Data.Value != nil {
		t.Fatalf("the secret leaks: %+v", f)
	}
	if f.Path != "spec.containers[0].env[0].value" {
		t.Fatalf("path %s", f.Path)
	}
}
