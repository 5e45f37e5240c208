package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const risky = `# web tier
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web   # the storefront
          image: nginx:1.27.0
          securityContext:
            allowPrivilegeEscalation: true
`

func kmend(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestScanExitCodesAndJSON(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "web.yaml", risky)
	code, out, errs := kmend(t, "", "scan", "-o", "json", "--controls", "KM-002", dir)
	if code != exitFindings {
		t.Fatalf("exit %d, want 1; stderr %s", code, errs)
	}
	var rep struct {
		Schema   string
		Findings []struct {
			Control, Reason, Observed, Path, Container string
			Position                                   struct{ Line int }
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if rep.Schema != "kmend.dev/report/v1" || len(rep.Findings) != 1 {
		t.Fatalf("report = %+v", rep)
	}
	f := rep.Findings[0]
	if f.Control != "KM-002" || f.Reason != "risky" || f.Observed != "true" || f.Container != "web" || f.Position.Line != 16 ||
		f.Path != "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation" {
		t.Fatalf("finding = %+v", f)
	}
	if code, _, _ := kmend(t, "", "scan", "--controls", "KM-002", "--fail-on", "critical", dir); code != exitOK {
		t.Fatalf("--fail-on critical: exit %d, want 0", code)
	}
}

func TestScanStdinAndBadInput(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a-broken.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  labels: [\n")
	write(t, dir, "b-web.yaml", risky)
	write(t, dir, "c-values.yaml", "replicas: 3\nimage: {tag: latest}\n")
	code, out, _ := kmend(t, "", "scan", "-o", "json", "--controls", "KM-002", dir)
	if code != exitError {
		t.Fatalf("exit %d, want 2 (a file could not be read)", code)
	}
	if !strings.Contains(out, `"file": "`+filepath.Join(dir, "a-broken.yaml")) || !strings.Contains(out, `"control": "KM-002"`) {
		t.Fatalf("the broken file must be reported and the others scanned:\n%s", out)
	}
	code, out, _ = kmend(t, risky, "scan", "--controls", "KM-002", "-o", "json", "-")
	if code != exitFindings || !strings.Contains(out, `"file": "<stdin>"`) {
		t.Fatalf("stdin: exit %d\n%s", code, out)
	}
}

func TestUnknownCommandAndFlag(t *testing.T) {
	if code, _, errs := kmend(t, "", "scna"); code != exitError || !strings.Contains(errs, "scan") {
		t.Fatalf("unknown command: exit %d, stderr %q (want a suggestion)", code, errs)
	}
	if code, _, errs := kmend(t, "", "scan", "--nope", "."); code != exitError || !strings.Contains(errs, "--help") {
		t.Fatalf("unknown flag: exit %d, stderr %q", code, errs)
	}
	if code, _, _ := kmend(t, "", "scan", "-o", "xml", "."); code != exitError {
		t.Fatalf("bad format: exit %d", code)
	}
}

func TestFixWritesOnlyTheField(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "web.yaml", risky)
	code, out, errs := kmend(t, "", "fix", "--controls", "KM-002", "--dry-run", dir)
	if code != exitOK || !strings.Contains(out, "-            allowPrivilegeEscalation: true") || !strings.Contains(out, "+            allowPrivilegeEscalation: false") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errs)
	}
	if b, _ := os.ReadFile(p); string(b) != risky {
		t.Fatal("dry run wrote the file")
	}
	if code, out, errs := kmend(t, "", "fix", "--controls", "KM-002", dir); code != exitOK || !strings.Contains(out, "wrote 1 files") {
		t.Fatalf("fix: exit %d\n%s\n%s", code, out, errs)
	}
	b, _ := os.ReadFile(p)
	if want := strings.Replace(risky, "allowPrivilegeEscalation: true", "allowPrivilegeEscalation: false", 1); string(b) != want {
		t.Fatalf("fixed file:\n%s\nwant:\n%s", b, want)
	}
	if code, _, _ := kmend(t, "", "scan", "--controls", "KM-002", dir); code != exitOK {
		t.Fatalf("re-scan after fix: exit %d", code)
	}
}

func TestExplain(t *testing.T) {
	code, out, _ := kmend(t, "", "explain", "C-0016")
	if code != exitOK || !strings.Contains(out, "KM-002") || !strings.Contains(out, "RFC 6902") {
		t.Fatalf("explain C-0016: exit %d\n%s", code, out)
	}
	dir := t.TempDir()
	p := write(t, dir, "web.yaml", risky)
	code, out, _ = kmend(t, "", "explain", p+":16")
	if code != exitOK || !strings.Contains(out, "kubectl patch deployment/web -n shop --type strategic") {
		t.Fatalf("explain file:line: exit %d\n%s", code, out)
	}
	if code, _, _ := kmend(t, "", "explain", "KM-999"); code != exitError {
		t.Fatalf("explain unknown: exit %d", code)
	}
}
