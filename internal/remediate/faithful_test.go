package remediate_test

import (
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/remediate"
)

// TestFixTouchesOnlyEditedNodes fixes the sample repository and real
// manifests written by others with every auto and review fix, and checks
// the promise line by line: every original line that is gone is a line of an
// edited field; every comment and blank line is still there, in order; and a
// re-scan finds none of the fixed findings.
func TestFixTouchesOnlyEditedNodes(t *testing.T) {
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	opts := remediate.Options{Fixability: []finding.Fixability{finding.FixAuto, finding.FixReview}}
	for _, dir := range []string{"../../fixtures/demo-repo", "../../fixtures/upstream"} {
		t.Run(dir, func(t *testing.T) {
			set := manifest.Load([]string{dir}, manifest.Options{})
			if len(set.Errors) > 0 {
				t.Fatalf("load: %v", set.Errors)
			}
			results := remediate.Run(set, cat.All(), opts)
			changed, fixed := 0, 0
			for _, r := range results {
				for _, d := range r.Dropped {
					t.Errorf("%s: dropped %s at %s: %s", r.Path, d.Finding.ControlID, d.Finding.Path, d.Reason)
				}
				if !r.Changed() {
					continue
				}
				changed++
				keys := editedKeys(r)
				for _, a := range r.Applied {
					fixed += len(a.Findings)
				}
				checkLines(t, r.Path, string(r.Before), string(r.After), keys)
				rescan(t, r, cat.All(), opts)
			}
			if changed == 0 || fixed == 0 {
				t.Fatalf("nothing fixed in %s", dir)
			}
			t.Logf("%s: %d findings fixed in %d files", dir, fixed, changed)
		})
	}
}

// editedKeys are the mapping keys the applied fixes set: the members their
// RFC 6902 ops (relative to where the fix applies) name, and the keys of
// the values they add. (A result's fix keeps no strategic-merge tree.)
func editedKeys(r *remediate.FileResult) map[string]bool {
	keys := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				keys[k] = true
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	unescape := strings.NewReplacer("~1", "/", "~0", "~")
	for _, a := range r.Applied {
		for _, op := range a.Fix.RelativeOps {
			for _, tok := range strings.Split(op.Path, "/")[1:] {
				keys[unescape.Replace(tok)] = true
			}
			walk(op.Value)
		}
	}
	return keys
}

func checkLines(t *testing.T, path, before, after string, keys map[string]bool) {
	t.Helper()
	a, b := difflib.SplitLines(before), difflib.SplitLines(after)
	m := difflib.NewMatcher(a, b)
	for _, op := range m.GetOpCodes() {
		if op.Tag != 'r' && op.Tag != 'd' {
			continue
		}
		// difflib does not anchor on frequent lines, so a replace block can
		// hold lines that are the same on both sides: those did not change.
		same := map[string]int{}
		for _, l := range b[op.J1:op.J2] {
			same[l]++
		}
		for _, l := range a[op.I1:op.I2] {
			if same[l] > 0 {
				same[l]--
				continue
			}
			s := strings.TrimSpace(l)
			if strings.HasPrefix(s, "- ") && !strings.Contains(s, ":") {
				continue // an item of a replaced list
			}
			key, _, ok := strings.Cut(strings.TrimPrefix(s, "- "), ":")
			if !ok || !keys[strings.Trim(key, `"'`)] {
				t.Errorf("%s: line %q changed, but it is not a field kmend edited", path, strings.TrimRight(l, "\r\n"))
			}
		}
	}
	// Comments and blank lines: all still there, in order.
	var want []string
	for _, l := range a {
		if s := strings.TrimSpace(l); s == "" || strings.HasPrefix(s, "#") {
			want = append(want, l)
		}
	}
	i := 0
	for _, l := range b {
		if i < len(want) && l == want[i] {
			i++
		}
	}
	if i != len(want) {
		t.Errorf("%s: comment or blank line %q lost", path, strings.TrimSpace(want[i]))
	}
}

func rescan(t *testing.T, r *remediate.FileResult, controls []*catalog.Control, opts remediate.Options) {
	t.Helper()
	fixed := map[string]bool{}
	for _, a := range r.Applied {
		for _, f := range a.Findings {
			fixed[f.Fingerprint()] = true
		}
	}
	set := manifestFrom(t, r.Path, r.After)
	for _, o := range set.Objects {
		for _, res := range check.Run(controls, o, opts.Check) {
			if fixed[res.Finding.Fingerprint()] {
				t.Errorf("%s: %s still fails at %s after the fix", r.Path, res.Finding.ControlID, res.Finding.Path)
			}
		}
	}
}
