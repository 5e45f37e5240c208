package render

import (
	"slices"
	"strings"
	"testing"

	"github.com/kmend/kmend/internal/finding"
)

func TestLength(t *testing.T) {
	for s, want := range map[string]int{
		"":         0,
		"abc":      3,
		"a\nb":     4, // a line feed may become CRLF
		"a\r\nb":   5,
		"ü":        1, // one code point, two bytes
		"🚀":        2, // outside the BMP: two UTF-16 units
		"é🚀\n":     5,
		"\xff\xfe": 2, // invalid bytes count one each
	} {
		if got := Length(s); got != want {
			t.Errorf("Length(%q) = %d, want %d", s, got, want)
		}
		if got, runes := Length(s), len([]rune(s)); got < runes {
			t.Errorf("Length(%q) = %d counts fewer than the %d characters", s, got, runes)
		}
	}
	if Length("ab🚀\n")+Length("c\n") != Length("ab🚀\nc\n") {
		t.Error("Length does not add up")
	}
}

func TestEsc(t *testing.T) {
	for in, want := range map[string]string{
		"payments":                  "payments",
		"a|b":                       "a&#124;b",
		"`x`":                       "&#96;x&#96;",
		"<script>":                  "&lt;script&gt;",
		"--> <!--":                  "--&gt; &lt;&#33;--",
		"@octocat":                  "@&#8203;octocat",
		"line\nbreak\r\there":       "line break  here",
		"*bold* _it_ [l](u) ~s~ #1": "&#42;bold&#42; &#95;it&#95; &#91;l&#93;(u) &#126;s&#126; &#35;1",
		"\u202eevil\u2066":          " evil ",
		"a\u2028b":                  "a b",
		`back\slash & "q" $x$ ü 🚀`:  "back&#92;slash &amp; &quot;q&quot; &#36;x&#36; ü 🚀",
	} {
		if got := esc(in); got != want {
			t.Errorf("esc(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("x", 500)
	if got := cell(long); len([]rune(got)) != maxCell || !strings.HasSuffix(got, "…") {
		t.Errorf("cell does not cut a long value: %d runes", len([]rune(got)))
	}
	if got := plain("a\n\tb\u202e  c"); got != "a b c" {
		t.Errorf("plain = %q", got)
	}
}

func TestFence(t *testing.T) {
	for content, want := range map[string]string{
		"a: 1\n":             "```yaml\na: 1\n```\n",
		"x ``` y":            "````yaml\nx ``` y\n````\n",
		"```\nnested\n```\n": "````yaml\n```\nnested\n```\n````\n",
		"`````":              "``````yaml\n`````\n``````\n",
	} {
		got := fence("yaml", content)
		if got != want {
			t.Errorf("fence(%q) = %q, want %q", content, got, want)
		}
		_, blocks, err := codeBlocks(got)
		if err != nil || len(blocks) != 1 || blocks[0] != "yaml\n"+strings.TrimRight(content, "\n")+"\n" {
			t.Errorf("fence(%q) does not read back as one block: %q, %v", content, blocks, err)
		}
	}
}

func TestFileLink(t *testing.T) {
	for _, c := range []struct {
		base, file string
		line       int
		want       string
	}{
		{"", "apps/web.yaml", 3, "apps/web.yaml:3"},
		{"https://github.com/o/r/blob/main/", "./apps/web.yaml", 3, "[apps/web.yaml:3](<https://github.com/o/r/blob/main/apps/web.yaml#L3>)"},
		{"https://github.com/o/r/blob/main", "apps/a b|c)`<x>.yaml", 0,
			"[apps/a b&#124;c)&#96;&lt;x&gt;.yaml](<https://github.com/o/r/blob/main/apps/a%20b%7Cc%29%60%3Cx%3E.yaml>)"},
	} {
		if got := fileLink(c.base, c.file, c.line); got != c.want {
			t.Errorf("fileLink(%q, %q, %d) =\n%s\nwant\n%s", c.base, c.file, c.line, got, c.want)
		}
	}
}

// hostile is a change set whose every repository value tries to break
// out: of a table cell, of a code block, of the metadata comment, into
// HTML, into a mention, onto a new line.
func hostile(t *testing.T) ChangeSet {
	t.Helper()
	cat := builtin(t)
	ctl, _ := cat.Get("KM-002")
	bad := "evil|name`x` <script>alert(1)</script> --> <!-- kmend:metadata {\"version\":1,\"kind\":\"fix\",\"fingerprints\":[\"forged\"]} --> @octocat\n| injected | row |\n```\n</details>"
	ref := finding.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "ns; rm -rf /", Name: bad}
	file := "apps/we|ird`<x>`/de ploy(1).yaml"
	fd := finding.Finding{ControlID: ctl.ID, Title: ctl.Title, Severity: ctl.Severity, Object: ref, Container: bad,
		ContainerType: "containers", Path: "spec", Reason: finding.ReasonRisky, Observed: bad, Fixability: finding.FixReview,
		ReviewNote: bad, Position: finding.Position{File: file, Line: 7}, Origin: "kmend"}
	smp := "spec:\n  template:\n    spec:\n      containers:\n      - name: |\n          " + strings.ReplaceAll(bad, "\n", "\n          ") + "\n"
	p := Patch{StrategicMerge: smp, JSONPatch: "[\"" + bad + "\"]\n",
		Kubectl: []string{"kubectl patch deployment/" + bad + " -n ns; rm -rf / --type json -p '[]'"}, Note: bad}
	left := fd
	left.Container = "other"
	return ChangeSet{
		Repo: "acme/shop", Base: "main\n<!--", Head: "kmend/x",
		Group:   Group{Key: "directory/" + bad, Title: bad},
		Catalog: "sha256:" + bad,
		Fixes:   []Fix{{Control: ctl, Findings: []finding.Finding{fd}, File: file, Line: 7, Patch: p}},
		Left:    []Left{{Finding: left, Control: ctl, Why: bad, Patch: &p}},
		Files:   []FileDiff{{Path: file, Diff: "--- a/" + file + "\n+++ b/" + file + "\n@@ -1 +1 @@\n-```\n+" + bad + "\n"}},
	}
}

func TestHostileValues(t *testing.T) {
	cs := hostile(t)
	for _, opts := range []Options{{BlobURL: "https://github.com/acme/shop/blob/main"}, {Limit: 6000, FoldDiffLines: -1}} {
		r, err := PR(cs, opts)
		if err != nil {
			t.Fatal(err)
		}
		checkMarkdownLimit(t, r, cmpOr(opts.Limit, MaxLength))
		m, err := ParseMetadata(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{cs.Fixes[0].Findings[0].Fingerprint()}; !slices.Equal(m.Fingerprints, want) || m.Group != cs.Group.Key {
			t.Errorf("metadata = %+v, want fingerprints %v", m, want)
		}
		for i, part := range append([]string{r.Body}, r.Comments...) {
			outside, _, _ := codeBlocks(part)
			// The metadata comment holds the values as JSON, unrendered.
			outside = slices.DeleteFunc(outside, func(l string) bool { return strings.HasPrefix(l, metadataOpen) })
			text := strings.Join(outside, "\n")
			for _, s := range []string{"@octocat", "<script", "| injected |", "\n```\n</details>"} {
				if strings.Contains(text, s) {
					t.Errorf("part %d: %q reaches the Markdown outside code blocks", i, s)
				}
			}
		}
		if strings.Contains(r.Body+strings.Join(r.Comments, ""), "kubectl patch deployment/evil") {
			t.Error("kubectl commands with an unquoted hostile name are shown")
		}
		if !strings.Contains(r.Body+strings.Join(r.Comments, ""), "kubectl commands are not shown") {
			t.Error("the omitted kubectl commands are not explained")
		}
	}
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}
