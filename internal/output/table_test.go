package output

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kmend/kmend/internal/finding"
)

func writeTable(t *testing.T, r *Report, opts TableOptions) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteTable(&b, r, opts); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestWriteTableGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		r    *Report
		opts TableOptions
	}{
		{"table.golden", richReport(), TableOptions{Width: 100}},
		{"table_color.golden", richReport(), TableOptions{Width: 100, Color: true}},
		{"table_verbose.golden", richReport(), TableOptions{Width: 100, Verbose: true}},
		{"table_verbose_color.golden", richReport(), TableOptions{Width: 100, Verbose: true, Color: true}},
		{"table_narrow.golden", richReport(), TableOptions{Width: 60}},
		{"table_nowrap.golden", richReport(), TableOptions{}},
		{"table_empty.golden", &Report{Summary: Summary{Files: 2, Objects: 3, Score: 100}}, TableOptions{Width: 80}},
	} {
		t.Run(c.name, func(t *testing.T) {
			golden(t, c.name, writeTable(t, c.r, c.opts))
		})
	}
}

func TestWriteTableColorOnlyWhenAsked(t *testing.T) {
	for _, verbose := range []bool{false, true} {
		plain := writeTable(t, richReport(), TableOptions{Width: 100, Verbose: verbose})
		if bytes.Contains(plain, []byte("\x1b[")) {
			t.Errorf("verbose=%v: escape codes without Color", verbose)
		}
		colored := writeTable(t, richReport(), TableOptions{Width: 100, Verbose: verbose, Color: true})
		if !bytes.Contains(colored, []byte("\x1b[1;31mCRITICAL\x1b[0m")) {
			t.Errorf("verbose=%v: no colour with Color", verbose)
		}
		// Colour changes nothing but the escape codes.
		if got := stripANSI(string(colored)); got != string(plain) {
			t.Errorf("verbose=%v: coloured output differs once escapes are removed:\n%s", verbose, lineDiff(string(plain), got))
		}
	}
}

func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && s[j] != 'm' {
				j++
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestWriteTableWrapsToWidth(t *testing.T) {
	for _, width := range []int{60, 80, 100} {
		out := writeTable(t, richReport(), TableOptions{Width: width, Verbose: true})
		for _, l := range strings.Split(string(out), "\n") {
			// Head lines are not wrapped; message lines are, unless one
			// word alone is too long.
			if strings.HasPrefix(l, "    ") && !isHeadLine(l) && utf8.RuneCountInString(l) > width && strings.Count(strings.TrimSpace(l), " ") > 0 {
				t.Errorf("width %d: line of %d runes: %q", width, utf8.RuneCountInString(l), l)
			}
		}
	}
}

func isHeadLine(l string) bool {
	for _, s := range []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"} {
		if strings.HasPrefix(l, "    "+s+" ") {
			return true
		}
	}
	return false
}

func TestWriteTableOrder(t *testing.T) {
	out := string(writeTable(t, richReport(), TableOptions{}))
	// Within Deployment/prod/web: critical, then high (app before
	// sidecar), then medium.
	idx := func(s string) int {
		i := strings.Index(out, s)
		if i < 0 {
			t.Fatalf("%q not in output:\n%s", s, out)
		}
		return i
	}
	order := []string{
		"deploy/db.yaml",
		"deploy/web.yaml\n  Deployment/prod/web\n    CRITICAL  KM-001  container app  risky: true  deploy/web.yaml:21",
		"    HIGH      KM-002  container app  unset  deploy/web.yaml:17",
		"    HIGH      KM-003  container sidecar  inherited: false  deploy/web.yaml:9",
		"    MEDIUM    KM-050  reported by polaris hostIPCSet  deploy/web.yaml:30",
		"  CronJob/prod/report\n    MEDIUM    KM-010  container worker  unset  deploy/web.yaml\n",
		"deploy/with space/job.yaml",
		"Summary\n",
		"8 findings in 5 objects: 2 critical, 2 high, 2 medium, 1 low, 1 info",
		"Fixable: 4 automatically, 1 after review, 3 by hand",
		"Score: 62.5/100 (5 files, 6 objects scanned)",
		"Suppressed: 2 (-v lists them)",
		"Errors: 2\n    deploy/broken.yaml:4: yaml: mapping values",
		"    deploy/huge.yaml: file is larger",
	}
	last := -1
	for _, s := range order {
		if i := idx(s); i < last {
			t.Errorf("%q is out of order", s)
		} else {
			last = i
		}
	}
	if !strings.HasPrefix(out, "cluster prod-eu\n  Pod/kube-system/debug\n") {
		t.Errorf("the finding read from a cluster does not come first:\n%s", out)
	}
	if strings.Contains(out, "exempt.kmend.dev") {
		t.Error("suppressed findings are listed without Verbose")
	}
}

func TestWriteTableVerbose(t *testing.T) {
	out := string(writeTable(t, richReport(), TableOptions{Verbose: true}))
	for _, want := range []string{
		"field: spec.template.spec.containers[0].securityContext.privileged",
		"fix: review (the limit must be sized for the workload)",
		"reported by polaris as hostIPCSet",
		"\nSuppressed\n",
		"exempted by exempt.kmend.dev/KM-020: the release pipeline pins the digest",
		"\nSkipped\n  charts/app/templates/deploy.yaml: Helm template",
		"Why these controls matter",
		"allowPrivilegeEscalation controls the no_new_privs flag",
		"kmend explain KM-002 shows the fix.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("verbose output lacks %q", want)
		}
	}
}

func TestWrap(t *testing.T) {
	for _, c := range []struct {
		text  string
		width int
		want  []string
	}{
		{"a bb ccc dddd", 6, []string{"a bb", "ccc", "dddd"}},
		{"a bb ccc dddd", 0, []string{"a bb ccc dddd"}},
		{"averyveryverylongword b", 5, []string{"averyveryverylongword", "b"}},
		{"  spaced   out  ", 20, []string{"spaced out"}},
		{"one\n\ntwo", 20, []string{"one", "", "two"}},
		{"", 10, []string{""}},
	} {
		got := wrap(c.text, c.width)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("wrap(%q, %d) = %q, want %q", c.text, c.width, got, c.want)
		}
	}
}

func TestReasonText(t *testing.T) {
	for _, c := range []struct {
		f    finding.Finding
		want string
	}{
		{finding.Finding{Reason: finding.ReasonUnset}, "unset"},
		{finding.Finding{Reason: finding.ReasonRisky, Observed: "true"}, "risky: true"},
		{finding.Finding{Reason: finding.ReasonInherited, Observed: "0"}, "inherited: 0"},
		{finding.Finding{Reason: finding.ReasonInherited}, "inherited"},
		{finding.Finding{Reason: finding.ReasonReported, Origin: "trivy", ForeignID: "KSV001"}, "reported by trivy KSV001"},
		{finding.Finding{Reason: finding.ReasonReported, Origin: "kmend", Observed: "x"}, "reported: x"},
	} {
		if got := reasonText(c.f); got != c.want {
			t.Errorf("reasonText(%+v) = %q, want %q", c.f, got, c.want)
		}
	}
}
