package remediate

import (
	"errors"
	"strings"
	"testing"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/yamledit"
)

const twoPods = `apiVersion: v1
kind: Pod
metadata:
  name: a # first
spec:
  containers:
    - name: c
      image: x:1
---
apiVersion: v1
kind: Pod
metadata:
  name: b
spec:
  containers:
    - name: c
      image: x:1
`

func twoPodSet(t *testing.T) *manifest.Set {
	t.Helper()
	f, err := yamledit.Parse("pods.yaml", []byte(twoPods), yamledit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	set := manifest.FromFiles(f)
	if len(set.Objects) != 2 {
		t.Fatalf("%d objects", len(set.Objects))
	}
	return set
}

// TestFixFileReleasesTheEdit: once fixFile is done with a file, whether it
// changed it or not, the edit is released (its trees are gone, and using
// it fails), so a run does not keep the trees of every file it fixed.
func TestFixFileReleasesTheEdit(t *testing.T) {
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		opts    Options
		changed bool
	}{
		{"fixed", Options{}, true},
		{"nothing to fix", Options{Select: func(finding.Finding) bool { return false }}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			set := twoPodSet(t)
			f := set.Files[0].Edit()
			res := fixFile(f, set.Objects, cat.All(), c.opts)
			if res.Changed() != c.changed {
				t.Fatalf("changed = %v, want %v (dropped %+v)", res.Changed(), c.changed, res.Dropped)
			}
			if _, err := f.Render(); !errors.Is(err, yamledit.ErrReleased) {
				t.Fatalf("Render after fixFile: %v; want ErrReleased", err)
			}
			if err := f.SetDoc(0, set.Files[0].Docs[0].Node.Copy()); !errors.Is(err, yamledit.ErrReleased) {
				t.Fatalf("SetDoc after fixFile: %v; want ErrReleased", err)
			}
			if string(res.Before) != twoPods {
				t.Fatalf("result lost the original bytes")
			}
		})
	}
}

// TestRunsOfOneSetAreIndependent: a set fixed several times (as publish
// fixes one set once per change set) gives each run the fixes it selected
// only, and the set's files keep no edit.
func TestRunsOfOneSetAreIndependent(t *testing.T) {
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	doc := func(i int) Options {
		return Options{Select: func(f finding.Finding) bool { return f.Position.Document == i }}
	}
	set := twoPodSet(t)
	first := Run(set, cat.All(), doc(0))
	second := Run(set, cat.All(), doc(1))
	alone := Run(twoPodSet(t), cat.All(), doc(1))
	if len(first) != 1 || len(second) != 1 || len(alone) != 1 || !first[0].Changed() || !second[0].Changed() {
		t.Fatalf("want one changed file per run")
	}
	docs := func(data []byte) []string { return strings.Split(string(data), "\n---\n") }
	orig, a, b := docs([]byte(twoPods)), docs(first[0].After), docs(second[0].After)
	if len(a) != 2 || len(b) != 2 || a[0] == orig[0] || a[1] != orig[1] || b[1] == orig[1] {
		t.Fatalf("first run:\n%s\nsecond run:\n%s", first[0].After, second[0].After)
	}
	if b[0] != orig[0] {
		t.Errorf("the second run kept the first run's edit of the first pod:\n%s", b[0])
	}
	if string(second[0].After) != string(alone[0].After) {
		t.Errorf("second run:\n%s\nwant, as on a fresh set:\n%s", second[0].After, alone[0].After)
	}
	if out, err := set.Files[0].Render(); err != nil || string(out) != twoPods {
		t.Errorf("the set's file after two runs: %v, edited = %v", err, string(out) != twoPods)
	}
}

// TestResultsKeepNoNodes: what a run returns is kept until it is printed;
// its fixes hold text, not trees of the objects or of the templates.
func TestResultsKeepNoNodes(t *testing.T) {
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	res := Run(twoPodSet(t), cat.All(), Options{})
	if len(res) != 1 || len(res[0].Applied) == 0 {
		t.Fatalf("want applied fixes")
	}
	for _, a := range res[0].Applied {
		fx := a.Fix
		if fx.Relative != nil || fx.Result.Node != nil || fx.Result.Root != nil {
			t.Errorf("%s: the fix keeps nodes (relative %v, node %v, root %v)", fx.Result.Control.ID, fx.Relative != nil, fx.Result.Node != nil, fx.Result.Root != nil)
		}
		if len(fx.StrategicMerge) == 0 || len(fx.JSONPatch) == 0 || len(fx.Kubectl) == 0 {
			t.Errorf("%s: the fix lost what is printed of it", fx.Result.Control.ID)
		}
	}
}
