package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	syaml "sigs.k8s.io/yaml"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/patch"
	"github.com/kmend/kmend/internal/remediate"
	"github.com/kmend/kmend/internal/yamledit"
)

func payments(t *testing.T) ([]*remediate.FileResult, []*catalog.Control) {
	t.Helper()
	const name = "apps/payments/deployment.yaml"
	data, err := os.ReadFile(filepath.Join(demoRepo, name))
	if err != nil {
		t.Fatal(err)
	}
	f, err := yamledit.Parse(name, data, yamledit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	controls := builtin(t).All()
	return remediate.Run(manifest.FromFiles(f), controls, remediate.Options{}), controls
}

// objectJSON is the JSON of the object ref in a file's content.
func objectJSON(t *testing.T, path string, data []byte, ref finding.ObjectRef) []byte {
	t.Helper()
	f, err := yamledit.Parse(path, data, yamledit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range manifest.FromFiles(f).Objects {
		if o.Ref == ref {
			j, err := patch.JSON(o.Node)
			if err != nil {
				t.Fatal(err)
			}
			return j
		}
	}
	t.Fatalf("no %s in %s", ref, path)
	return nil
}

func TestFromResults(t *testing.T) {
	results, controls := payments(t)
	r := results[0]
	// A left finding that a fix of the change set repaired is not listed;
	// a dropped one is, with why.
	r.Left = append(r.Left, r.Applied[0].Findings[0])
	dropped := r.Left[0]
	dropped.ControlID, dropped.Path = "KM-099", "spec.dropped"
	r.Dropped = append(r.Dropped, remediate.Dropped{Finding: dropped, Reason: "the fix changes nothing"})

	cs, err := FromResults(results, controls, check.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.Fixes) != len(r.Applied) || len(cs.Files) != 1 || !strings.HasPrefix(cs.Files[0].Diff, "--- a/apps/payments/deployment.yaml\n+++ b/apps/payments/deployment.yaml\n@@ ") {
		t.Fatalf("fixes %d (want %d), files %+v", len(cs.Fixes), len(r.Applied), cs.Files)
	}
	for i, f := range cs.Fixes {
		want, _ := PatchOf(r.Applied[i].Fix)
		if f.Control != r.Applied[i].Fix.Result.Control || f.File != r.Path || f.Line != f.Findings[0].Position.Line ||
			f.Patch.StrategicMerge != want.StrategicMerge || f.Patch.JSONPatch != want.JSONPatch || len(f.Patch.Kubectl) != 2 {
			t.Errorf("fix %d: %+v", i, f)
		}
	}
	fixedFP := r.Applied[0].Findings[0].Fingerprint()
	var withPatch, droppedSeen int
	for _, l := range cs.Left {
		if l.Finding.Fingerprint() == fixedFP {
			t.Error("a finding the change set repairs is listed as left")
		}
		if l.Finding.ControlID == "KM-099" {
			droppedSeen++
			if l.Why != "kmend could not verify its fix: the fix changes nothing" || l.Patch != nil {
				t.Errorf("dropped: %+v", l)
			}
			continue
		}
		if l.Control == nil || l.Why == "" {
			t.Errorf("left %s without control or why", l.Finding.ControlID)
		}
		if l.Patch == nil {
			continue
		}
		// The patch of a left finding applies to the object as fixed, in
		// both forms, with the same result.
		withPatch++
		doc := objectJSON(t, r.Path, r.After, l.Finding.Object)
		ops, err := catalog.ParseOps([]byte(l.Patch.JSONPatch))
		if err != nil {
			t.Fatal(err)
		}
		byOps, err := patch.ApplyJSONPatch(doc, ops)
		if err != nil {
			t.Fatalf("%s: the RFC 6902 patch does not apply to the fixed object: %v", l.Finding.ControlID, err)
		}
		smp, err := syaml.YAMLToJSON([]byte(l.Patch.StrategicMerge))
		if err != nil {
			t.Fatal(err)
		}
		bySMP, err := patch.ApplyStrategicMerge(l.Finding.Object.Kind, doc, smp)
		if err != nil || !patch.SameJSON(byOps, bySMP) {
			t.Errorf("%s: the two patches disagree on the fixed object: %v", l.Finding.ControlID, err)
		}
		// And it keeps what the change set fixed.
		if !strings.Contains(string(byOps), `"allowPrivilegeEscalation":false`) || !strings.Contains(string(byOps), `"seccompProfile":{"type":"RuntimeDefault"}`) {
			t.Errorf("%s: the patch undoes a fix: %s", l.Finding.ControlID, byOps)
		}
	}
	if withPatch == 0 || droppedSeen != 1 {
		t.Errorf("%d left findings with a patch, %d dropped", withPatch, droppedSeen)
	}
	if !strings.HasPrefix(cs.Catalog, "sha256:") || len(cs.Catalog) != len("sha256:")+12 {
		t.Errorf("catalog = %q", cs.Catalog)
	}
}

func TestCatalogDigest(t *testing.T) {
	controls := builtin(t).All()
	a := CatalogDigest(controls)
	rev := make([]*catalog.Control, len(controls))
	for i, c := range controls {
		rev[len(controls)-1-i] = c
	}
	if b := CatalogDigest(rev); a != b {
		t.Errorf("the order of the controls changes the digest: %s, %s", a, b)
	}
	changed := *controls[0]
	changed.Fix.StrategicMerge += "\n# changed"
	if b := CatalogDigest(append([]*catalog.Control{&changed}, controls[1:]...)); a == b {
		t.Error("changing a control's fix does not change the digest")
	}
}
