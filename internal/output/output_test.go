package output

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kmend/kmend/internal/finding"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/output/ -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test ./internal/output/ -update to accept):\n%s", path, lineDiff(string(want), string(got)))
	}
}

// lineDiff shows the first lines that differ, quoted so that escape codes
// and trailing spaces are visible.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  want " + quote(wl) + "\n  got  " + quote(gl) + "\n")
			shown++
		}
	}
	return b.String()
}

func quote(s string) string { return "`" + strings.ReplaceAll(s, "\x1b", `\e`) + "`" }

// compileSchema compiles a JSON Schema document, asserting formats.
func compileSchema(t *testing.T, url string, doc []byte) *jsonschema.Schema {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("schema %s: %v", url, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(url, v); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compile %s: %v", url, err)
	}
	return sch
}

// validate checks that doc is valid JSON that sch accepts.
func validate(t *testing.T, sch *jsonschema.Schema, doc []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	return sch.Validate(v)
}

// richReport exercises every branch of the writers: several files and
// documents, every severity, reason and fixability, a finding with an
// unknown line, one whose control is not in Rules, one not read from a
// file, suppressed findings with and without a justification, errors with
// and without a line, a skipped input.
func richReport() *Report {
	web := finding.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "prod", Name: "web"}
	report := finding.ObjectRef{APIVersion: "batch/v1", Kind: "CronJob", Namespace: "prod", Name: "report"}
	db := finding.ObjectRef{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: "data", Name: "db"}
	job := finding.ObjectRef{APIVersion: "batch/v1", Kind: "Job", Name: "migrate"}
	debug := finding.ObjectRef{Cluster: "prod-eu", APIVersion: "v1", Kind: "Pod", Namespace: "kube-system", Name: "debug", UID: "0b6f2c1e-5d1a-4e9b-9a59-5f0c1d2e3f40"}
	ctr := "spec.template.spec.containers"

	findings := []finding.Finding{
		{
			ControlID: "KM-020", Title: "Images must be pinned", Severity: finding.SeverityLow, Object: db,
			Container: "postgres", ContainerType: "containers", Path: "spec.template.spec.containers[0].image",
			Reason: finding.ReasonRisky, Observed: "postgres:latest",
			Message:    "image postgres:latest uses the mutable tag latest & <can> change under you.",
			Fixability: finding.FixManual, Position: finding.Position{File: "./deploy/db.yaml", Line: 18}, Origin: "kmend",
		},
		{
			ControlID: "KM-001", Title: "Containers must not run privileged", Severity: finding.SeverityCritical, Object: web,
			Container: "app", ContainerType: "containers", Path: ctr + "[0].securityContext.privileged",
			Reason: finding.ReasonRisky, Observed: "true",
			Message:    "privileged is true in container app: it has every capability of the host and can reach its devices.",
			Fixability: finding.FixAuto, Position: finding.Position{File: "deploy/web.yaml", Line: 21}, Origin: "kmend",
		},
		{
			ControlID: "KM-002", Title: "Containers must not allow privilege escalation", Severity: finding.SeverityHigh, Object: web,
			Container: "app", ContainerType: "containers", Path: ctr + "[0].securityContext.allowPrivilegeEscalation",
			Reason:     finding.ReasonUnset,
			Message:    "allowPrivilegeEscalation is not set, and it defaults to true: processes in container app can gain privileges through setuid binaries.",
			Fixability: finding.FixAuto, Position: finding.Position{File: "deploy/web.yaml", Line: 17}, Origin: "kmend",
		},
		{
			ControlID: "KM-003", Title: "Containers must run as a non-root user", Severity: finding.SeverityHigh, Object: web,
			Container: "sidecar", ContainerType: "initContainers", Path: "spec.template.spec.securityContext.runAsNonRoot",
			Reason: finding.ReasonInherited, Observed: "false",
			Message:    "container sidecar does not set runAsNonRoot, and the pod sets it to false.",
			Fixability: finding.FixAuto, Position: finding.Position{File: "deploy/web.yaml", Line: 9}, Origin: "kmend",
		},
		{
			ControlID: "KM-050", Title: "Pods must not share the host IPC namespace", Severity: finding.SeverityMedium, Object: web,
			Path: "spec.template.spec.hostIPC", Reason: finding.ReasonReported, Observed: "true",
			Message:    "hostIPC is true: the pod can read the shared memory of every process on the node.",
			Fixability: finding.FixManual, Position: finding.Position{File: "deploy/web.yaml", Line: 30},
			Origin: "polaris", ForeignID: "hostIPCSet",
		},
		{
			ControlID: "KM-010", Title: "Containers must set memory limits", Severity: finding.SeverityMedium, Object: report,
			Container: "worker", ContainerType: "containers", Path: "spec.jobTemplate.spec.template.spec.containers[0].resources.limits.memory",
			Reason:     finding.ReasonUnset,
			Message:    "container worker sets no memory limit: one leak can exhaust the node's memory and get other pods evicted.",
			Fixability: finding.FixReview, ReviewNote: "the limit must be sized for the workload",
			Position: finding.Position{File: "deploy/web.yaml", Document: 1}, Origin: "kmend",
		},
		{
			ControlID: "KM-030", Title: "Jobs should set a TTL", Severity: finding.SeverityInfo, Object: job,
			Path: "spec.ttlSecondsAfterFinished", Reason: finding.ReasonUnset,
			Message:    "the Job sets no ttlSecondsAfterFinished, so finished pods stay until someone deletes them.",
			Fixability: finding.FixManual, Position: finding.Position{File: "deploy/with space/job.yaml", Line: 1}, Origin: "kmend",
		},
		{
			ControlID: "KM-001", Title: "Containers must not run privileged", Severity: finding.SeverityCritical, Object: debug,
			Container: "shell", ContainerType: "ephemeralContainers", Path: "spec.ephemeralContainers[0].securityContext.privileged",
			Reason: finding.ReasonRisky, Observed: "true",
			Message:    "privileged is true in container shell: it has every capability of the host and can reach its devices.",
			Fixability: finding.FixAuto, Origin: "kmend",
		},
	}
	suppressed := []finding.Finding{
		{
			ControlID: "KM-020", Title: "Images must be pinned", Severity: finding.SeverityLow, Object: web,
			Container: "app", ContainerType: "containers", Path: ctr + "[0].image",
			Reason: finding.ReasonRisky, Observed: "registry.example.com/web:latest",
			Message:    "image registry.example.com/web:latest uses the mutable tag latest & <can> change under you.",
			Fixability: finding.FixManual, Position: finding.Position{File: "deploy/web.yaml", Line: 20}, Origin: "kmend",
			Suppression: &finding.Suppression{Annotation: "exempt.kmend.dev/KM-020", Justification: "the release pipeline pins the digest"},
		},
		{
			ControlID: "KM-002", Title: "Containers must not allow privilege escalation", Severity: finding.SeverityHigh, Object: db,
			Container: "postgres", ContainerType: "containers", Path: "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation",
			Reason:     finding.ReasonUnset,
			Message:    "allowPrivilegeEscalation is not set, and it defaults to true: processes in container postgres can gain privileges through setuid binaries.",
			Fixability: finding.FixAuto, Position: finding.Position{File: "./deploy/db.yaml", Line: 16}, Origin: "kmend",
			Suppression: &finding.Suppression{Annotation: "exempt.kmend.dev/KM-002"},
		},
	}
	return &Report{
		Schema: SchemaVersion,
		Tool:   Tool{Name: "kmend", Version: "v1.4.0"},
		Inputs: []string{"deploy", "charts"},
		Summary: Summary{
			Files: 5, Objects: 6, Findings: len(findings), Suppressed: len(suppressed), Errors: 2,
			BySeverity: map[string]int{"critical": 2, "high": 2, "medium": 2, "low": 1, "info": 1},
			ByReason:   map[finding.Reason]int{finding.ReasonRisky: 3, finding.ReasonUnset: 3, finding.ReasonInherited: 1, finding.ReasonReported: 1},
			Fixable:    map[finding.Fixability]int{finding.FixAuto: 4, finding.FixReview: 1, finding.FixManual: 3},
			Score:      62.5,
		},
		Findings:   findings,
		Suppressed: suppressed,
		Errors: []InputError{
			{File: "deploy/huge.yaml", Message: "file is larger than 8388608 bytes"},
			{File: "deploy/broken.yaml", Line: 4, Message: "yaml: mapping values are not allowed in this context"},
		},
		Skipped: []Skipped{{File: "charts/app/templates/deploy.yaml", Reason: "Helm template"}},
		Rules: []Rule{
			{
				ID: "KM-002", Name: "allow-privilege-escalation", Title: "Containers must not allow privilege escalation",
				Severity: finding.SeverityHigh, Fixability: finding.FixAuto, PSS: "restricted", Category: "pod-security",
				Rationale: "allowPrivilegeEscalation controls the no_new_privs flag of the container's\nprocesses. While it is true (the default), a process can gain more\nprivileges than its parent, for example through setuid binaries.\n",
				References: []string{
					"https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted",
					"https://kubernetes.io/docs/tasks/configure-pod-container/security-context/",
				},
				Fix:     "securityContext:\n  allowPrivilegeEscalation: false\n",
				Caveats: []string{"Programs that rely on setuid binaries (sudo, ping on old images) stop working."},
			},
			{
				ID: "KM-001", Name: "privileged", Title: "Containers must not run privileged",
				Severity: finding.SeverityCritical, Fixability: finding.FixAuto, PSS: "baseline", Category: "pod-security",
				Rationale:  "A privileged container has every capability of the host and can reach its devices: escaping to the node is trivial.",
				References: []string{"https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline"},
				HelpURI:    "https://github.com/kmend/kmend/tree/main/patches/KM-001-privileged",
				Fix:        "securityContext:\n  privileged: false\n",
			},
			{
				ID: "KM-003", Name: "run-as-non-root", Title: "Containers must run as a non-root user",
				Severity: finding.SeverityHigh, Fixability: finding.FixAuto, PSS: "restricted", Category: "pod-security",
				Rationale:  "A process running as root in a container is root on the node once it escapes.",
				References: []string{"https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted"},
			},
			{
				ID: "KM-010", Name: "memory-limits", Title: "Containers must set memory limits",
				Severity: finding.SeverityMedium, Fixability: finding.FixReview, Category: "resources",
				Rationale:  "Without a memory limit a container can use all of the node's memory.",
				References: []string{"https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/"},
				Fix:        "resources:\n  limits:\n    memory: {{.Params.memory}}\n",
			},
			{
				ID: "KM-020", Name: "image-pinned", Title: "Images must be pinned",
				Severity: finding.SeverityLow, Fixability: finding.FixManual, Category: "supply-chain",
				Rationale: "A mutable tag such as latest can point at a different image tomorrow.",
			},
			{
				ID: "KM-030", Name: "job-ttl", Title: "Jobs should set a TTL",
				Severity: finding.SeverityInfo, Fixability: finding.FixManual, Category: "hygiene",
				Rationale: "Finished Jobs keep their pods until deleted.",
			},
		},
	}
}
