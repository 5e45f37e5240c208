package render

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/finding"
)

// genOptions shape a generated change set.
type genOptions struct {
	// perObject fixes share an object, perFile objects share a file.
	perObject, perFile int
	// hunkLines is the size of each diff hunk.
	hunkLines int
	// left is one finding left for every this many fixes (0: none).
	left int
}

// genChangeSet makes a change set of n fixes with the built-in controls:
// patches of varied sizes (unique by their container name), some fixes
// repairing two findings, names with characters outside the BMP (which
// Length counts twice), findings left with and without patches, and a
// diff with one hunk per fix.
func genChangeSet(controls []*catalog.Control, n int, seed uint64, o genOptions) ChangeSet {
	rng := &lcg{state: seed*2 + 1}
	cs := ChangeSet{Repo: "acme/big", Base: "main", Head: "kmend/everything",
		Group: Group{Key: "repository", Title: "acme/big"}, Catalog: "sha256:0123456789ab"}
	hunks := map[string][]string{}
	var files []string
	for i := range n {
		obj := i / o.perObject
		file := fmt.Sprintf("apps/team-%02d/app-%04d.yaml", obj/o.perFile%17, obj/o.perFile)
		ref := finding.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: fmt.Sprintf("team-%02d", obj%17), Name: fmt.Sprintf("app-%04d", obj)}
		c := controls[rng.IntN(len(controls))]
		container := fmt.Sprintf("c%05d", i)
		if i%7 == 3 {
			container += "-🚀ü" // outside and inside the BMP
		}
		line := 10 + i%o.perObject*5
		fds := []finding.Finding{mkFinding(c, ref, container, file, line, rng)}
		if i%9 == 4 {
			fds = append(fds, mkFinding(c, ref, container+"-sidecar", file, line+2, rng))
		}
		cs.Fixes = append(cs.Fixes, Fix{Control: c, Findings: fds, File: file, Line: line, Patch: mkPatch(ref, container, rng.IntN(12))})
		if o.left > 0 && i%o.left == 0 {
			l := Left{Finding: mkFinding(c, ref, container+"-left", file, line+1, rng), Control: c, Why: "needs review: a person must confirm it"}
			if i%(2*o.left) == 0 {
				p := mkPatch(ref, container+"-left", rng.IntN(4))
				l.Patch = &p
			}
			cs.Left = append(cs.Left, l)
		}
		if _, ok := hunks[file]; !ok {
			files = append(files, file)
		}
		hunks[file] = append(hunks[file], mkHunk(line, container, o.hunkLines))
	}
	for _, f := range files {
		cs.Files = append(cs.Files, FileDiff{Path: f, Diff: "--- a/" + f + "\n+++ b/" + f + "\n" + strings.Join(hunks[f], "")})
	}
	return cs
}

// lcg is a small pseudo-random generator of its own, so that generated
// change sets (and the golden made from one) never change with Go's.
type lcg struct{ state uint64 }

func (r *lcg) IntN(n int) int {
	r.state = r.state*6364136223846793005 + 1442695040888963407
	return int((r.state >> 33) % uint64(n))
}

func mkFinding(c *catalog.Control, ref finding.ObjectRef, container, file string, line int, rng *lcg) finding.Finding {
	reasons := []finding.Reason{finding.ReasonUnset, finding.ReasonRisky, finding.ReasonInherited}
	f := finding.Finding{
		ControlID: c.ID, Title: c.Title, Severity: c.Severity, Object: ref,
		Container: container, ContainerType: "containers",
		Path:   "spec.template.spec.containers[0]." + container,
		Reason: reasons[rng.IntN(len(reasons))], Fixability: c.Fix.Fixability,
		Position: finding.Position{File: file, Line: line}, Origin: "kmend",
	}
	if f.Reason != finding.ReasonUnset {
		f.Observed = "value-" + container
	}
	return f
}

func mkPatch(ref finding.ObjectRef, container string, env int) Patch {
	var smp strings.Builder
	smp.WriteString("spec:\n  template:\n    spec:\n      containers:\n      - name: " + container + "\n        securityContext:\n          allowPrivilegeEscalation: false\n")
	if env > 0 {
		smp.WriteString("        env:\n")
		for i := range env {
			fmt.Fprintf(&smp, "        - name: VAR_%d\n          value: \"%s-%d\"\n", i, container, i)
		}
	}
	ops := fmt.Sprintf("[\n  {\n    \"op\": \"add\",\n    \"path\": \"/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation\",\n    \"value\": false,\n    \"container\": %q\n  }\n]\n", container)
	target := "deployment/" + ref.Name + " -n " + ref.Namespace
	return Patch{
		StrategicMerge: smp.String(),
		JSONPatch:      ops,
		Kubectl: []string{
			"kubectl patch " + target + ` --type strategic -p '{"spec":{"template":{"spec":{"containers":[{"name":"` + container + `"}]}}}}'`,
			"kubectl patch " + target + ` --type json -p '[{"op":"add","path":"/x","value":"` + container + `"}]'`,
		},
	}
}

func mkHunk(line int, container string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "@@ -%d,%d +%d,%d @@\n", line, n, line, n+1)
	for i := range n {
		fmt.Fprintf(&b, " context %d of %s\n", i, container)
	}
	b.WriteString("+        allowPrivilegeEscalation: false # " + container + "\n")
	return b.String()
}

// checkSplit checks the properties every rendering must have: each part
// within the limit and well-formed, each patch and each diff shown
// exactly once and whole, the metadata in the body with every
// fingerprint, and the body saying when it continues in comments.
func checkSplit(t *testing.T, cs ChangeSet, r Rendered, limit int) {
	t.Helper()
	checkMarkdownLimit(t, r, limit)
	// Every code block shown, by info string and content.
	shown := map[string]int{}
	for _, p := range append([]string{r.Body}, r.Comments...) {
		_, blocks, err := codeBlocks(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range blocks {
			shown[b]++
		}
	}
	block := func(lang, content string) string { return lang + "\n" + strings.TrimRight(content, "\n") + "\n" }
	count := func(what, lang, content string) {
		t.Helper()
		if n := shown[block(lang, content)]; n != 1 {
			t.Errorf("%s appears %d times, want once:\n%.300s", what, n, content)
		}
	}
	patches := func(p Patch) {
		count("a strategic-merge patch", "yaml", p.StrategicMerge)
		count("an RFC 6902 patch", "json", p.JSONPatch)
		count("kubectl commands", "sh", strings.Join(p.Kubectl, "\n"))
	}
	for _, f := range cs.Fixes {
		patches(f.Patch)
	}
	for _, l := range cs.Left {
		if l.Patch != nil {
			patches(*l.Patch)
		}
	}
	for _, f := range cs.Files {
		if shown[block("diff", f.Diff)] == 1 {
			continue
		}
		// Split at hunks: each hunk is its own block with the header.
		header, hunks := splitHunks(f.Diff)
		for _, h := range hunks {
			count("a hunk of "+f.Path, "diff", header+h)
		}
	}
	m, err := ParseMetadata(r.Body)
	if err != nil {
		t.Fatalf("metadata: %v", err)
	}
	var want []string
	for _, f := range cs.Fixes {
		for _, fd := range f.Findings {
			want = append(want, fd.Fingerprint())
		}
	}
	if want = sortedUnique(want); !slices.Equal(m.Fingerprints, want) {
		t.Errorf("metadata has %d fingerprints, want %d", len(m.Fingerprints), len(want))
	}
	if continued := strings.Contains(r.Body, "Continued in comments"); continued != (len(r.Comments) > 0) {
		t.Errorf("the body says it continues in comments: %v, with %d comments", continued, len(r.Comments))
	}
	if !strings.HasSuffix(r.Body, metadataClose+"\n") {
		t.Error("the metadata block does not end the body")
	}
	for i, c := range r.Comments {
		if !strings.HasPrefix(c, fmt.Sprintf("<!-- kmend:continued %d/%d -->\n", i+1, len(r.Comments))) {
			t.Errorf("comment %d does not start with its marker: %.80q", i+1, c)
		}
	}
}

func TestSplitProperty(t *testing.T) {
	controls := builtin(t).All()
	sizes := []int{1, 2, 3, 10, 40, 120, 400, 1000, 2000}
	rng := &lcg{state: 42}
	for range 6 {
		sizes = append(sizes, 1+rng.IntN(2000))
	}
	for i, n := range sizes {
		o := genOptions{perObject: 1 + i%6, perFile: 1 + i%4, hunkLines: 3 + i%20, left: []int{0, 3, 10}[i%3]}
		t.Run(fmt.Sprintf("%d-fixes", n), func(t *testing.T) {
			cs := genChangeSet(controls, n, uint64(i), o)
			r, err := PR(cs, Options{BlobURL: "https://github.com/acme/big/blob/main"})
			if err != nil {
				t.Fatal(err)
			}
			checkSplit(t, cs, r, MaxLength)
			if n >= 400 && len(r.Comments) == 0 {
				t.Errorf("%d fixes fit in one body: the generator is too small to test splitting", n)
			}
		})
	}
}

func TestSplitSmallLimits(t *testing.T) {
	// Small limits exercise every layout level with few fixes.
	controls := builtin(t).All()
	for _, limit := range []int{9000, 12000, 20000, 40000} {
		for _, n := range []int{1, 5, 30, 90} {
			t.Run(fmt.Sprintf("limit-%d-fixes-%d", limit, n), func(t *testing.T) {
				cs := genChangeSet(controls, n, uint64(n), genOptions{perObject: 3, perFile: 2, hunkLines: 5, left: 4})
				r, err := PR(cs, Options{Limit: limit})
				if err != nil {
					t.Fatal(err)
				}
				checkSplit(t, cs, r, limit)
			})
		}
	}
}

func TestSplitMovesInOrder(t *testing.T) {
	controls := builtin(t).All()
	cs := genChangeSet(controls, 60, 1, genOptions{perObject: 4, perFile: 2, hunkLines: 2})
	full, err := PR(cs, Options{Limit: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	size := Length(full.Body)
	fallback := strings.Index(full.Body, "### Apply by hand")
	if len(full.Comments) != 0 || fallback < 0 {
		t.Fatal("with no limit, everything is in the body")
	}
	// Just too small for the fallback: it moves to comments, the diffs stay.
	r, err := PR(cs, Options{Limit: size - 100})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.Body, "### Apply by hand") || !strings.Contains(r.Body, "### Changes") || !strings.Contains(r.Body, "<details><summary>apps/") {
		t.Error("level 2: the fallback should move to comments, the diffs stay in the body, folded")
	}
	if !strings.Contains(r.Body, "so the manual fallback continues in the 1 comment below") {
		t.Errorf("the notice does not say what continues:\n%s", r.Body[len(r.Body)-600:])
	}
	if !strings.HasPrefix(r.Comments[0][strings.Index(r.Comments[0], "\n\n")+2:], "### Apply by hand\n") {
		t.Errorf("the comment does not start with the fallback's heading:\n%.300s", r.Comments[0])
	}
	checkSplit(t, cs, r, size-100)

	// Far too small: only the introduction, the start of the table and
	// the metadata stay in the body.
	r, err = PR(cs, Options{Limit: 9000})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"### Left", "### What the controls", "### Changes", "### Apply by hand"} {
		if strings.Contains(r.Body, h) {
			t.Errorf("level 5: %s is still in the body", h)
		}
	}
	if !strings.Contains(r.Comments[0], "### Fixed findings (continued)\n\n| Control |") {
		t.Errorf("the table does not continue with its header:\n%.400s", r.Comments[0])
	}
	checkSplit(t, cs, r, 9000)
}

func TestSplitDeterministic(t *testing.T) {
	controls := builtin(t).All()
	cs := genChangeSet(controls, 300, 3, genOptions{perObject: 3, perFile: 2, hunkLines: 4, left: 3})
	a, err := PR(cs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The same change set with its files, left findings and objects in
	// another order (the fixes of one object keep theirs) renders the same.
	shuffled := cs
	shuffled.Files = slices.Clone(cs.Files)
	slices.Reverse(shuffled.Files)
	shuffled.Left = slices.Clone(cs.Left)
	slices.Reverse(shuffled.Left)
	shuffled.Fixes = nil
	for i := len(cs.Fixes); i > 0; i -= 3 {
		shuffled.Fixes = append(shuffled.Fixes, cs.Fixes[max(0, i-3):i]...)
	}
	b, err := PR(shuffled, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if joined(a) != joined(b) {
		t.Errorf("the order of the input changes the output:\n%s", firstDiff(joined(a), joined(b)))
	}
}

func TestSplitHugeDiff(t *testing.T) {
	// One file's diff is larger than a comment: it is shown hunk by hunk,
	// and a hunk larger than a comment is replaced by a note.
	controls := builtin(t).All()
	cs := genChangeSet(controls, 30, 5, genOptions{perObject: 30, perFile: 1, hunkLines: 400})
	huge := mkHunk(1, "huge", 5000)
	cs.Files = append(cs.Files, FileDiff{Path: "apps/huge.yaml", Diff: "--- a/apps/huge.yaml\n+++ b/apps/huge.yaml\n" + huge})
	r, err := PR(cs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkMarkdown(t, r)
	all := r.Body + strings.Join(r.Comments, "")
	if !strings.Contains(all, "The diff of apps/huge.yaml is too large to show here (5002 lines)") {
		t.Error("the huge hunk is not replaced by a note")
	}
	header, hunks := splitHunks(cs.Files[0].Diff)
	for _, h := range hunks {
		if strings.Count(all, fence("diff", header+h)) != 1 {
			t.Fatal("a hunk of the large file is missing or repeated")
		}
	}
}

func TestTooLarge(t *testing.T) {
	controls := builtin(t).All()
	cs := genChangeSet(controls, 40, 1, genOptions{perObject: 1, perFile: 1, hunkLines: 1})
	if _, err := PR(cs, Options{Limit: 1500}); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("a limit smaller than the metadata: err = %v", err)
	}
	if _, err := PR(ChangeSet{}, Options{}); err != ErrEmpty {
		t.Errorf("an empty change set: err = %v", err)
	}
}

func TestGoldenHuge(t *testing.T) {
	// A change set too large for one body: the golden shows the body
	// saying what continues where, and the comments.
	cs := genChangeSet(builtin(t).All(), 90, 11, genOptions{perObject: 6, perFile: 2, hunkLines: 6, left: 9})
	r, err := PR(cs, Options{BlobURL: "https://github.com/acme/big/blob/main"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Comments) < 2 {
		t.Fatalf("%d comments: the golden change set should need several", len(r.Comments))
	}
	checkSplit(t, cs, r, MaxLength)
	golden(t, "huge.md", joined(r))
}
