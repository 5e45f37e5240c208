package remediate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/patch"
	"github.com/kmend/kmend/internal/yamledit"
	"github.com/kmend/kmend/patches"
)

// FixtureFS returns where a control's fixtures are: the embedded catalog for
// built-in controls, the control's directory for custom ones.
func FixtureFS(c *catalog.Control) (fs.FS, string) {
	if c.Builtin {
		return patches.FS, path.Base(c.Dir)
	}
	return os.DirFS(c.Dir), "."
}

// RunFixtures checks a control against its own fixtures: failing.yaml fails
// it, passing.yaml passes it, and for auto and review fixes, fixing
// failing.yaml with this control alone gives fixed.yaml byte for byte, with
// every fix verified (see Run).
func RunFixtures(c *catalog.Control, fsys fs.FS, dir string) error {
	var errs []error
	failing, err := fixtureSet(c, fsys, dir, catalog.FailingFile)
	if err != nil {
		return err
	}
	if n := failures(c, failing); n == 0 {
		errs = append(errs, fmt.Errorf("%s does not fail %s", catalog.FailingFile, c.ID))
	}
	passing, err := fixtureSet(c, fsys, dir, catalog.PassingFile)
	if err != nil {
		return err
	}
	if n := failures(c, passing); n != 0 {
		errs = append(errs, fmt.Errorf("%s fails %s %d times, want 0", catalog.PassingFile, c.ID, n))
	}
	if c.Fix.Fixability == finding.FixManual {
		return errors.Join(errs...)
	}
	want, err := fs.ReadFile(fsys, path.Join(dir, catalog.FixedFile))
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("%s: %w", catalog.FixedFile, err))...)
	}
	res := Run(failing, []*catalog.Control{c}, Options{Fixability: []finding.Fixability{finding.FixAuto, finding.FixReview}})
	if len(res) != 1 {
		return errors.Join(append(errs, fmt.Errorf("fixing %s gave %d file results", catalog.FailingFile, len(res)))...)
	}
	r := res[0]
	for _, d := range r.Dropped {
		errs = append(errs, fmt.Errorf("fix dropped for %s at %s: %s", d.Finding.ControlID, d.Finding.Path, d.Reason))
	}
	for _, l := range r.Left {
		if l.ControlID == c.ID {
			errs = append(errs, fmt.Errorf("finding left unfixed at %s (%s: %s)", l.Path, l.Fixability, l.ReviewNote))
		}
	}
	got := r.After
	if got == nil {
		got = r.Before
	}
	if err := patchesGive(c, failing, r, want); err != nil {
		errs = append(errs, err)
	}
	if string(got) != string(want) {
		diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(string(want)), B: difflib.SplitLines(string(got)),
			FromFile: catalog.FixedFile + " (want)", ToFile: "kmend fix (got)", Context: 2,
		})
		errs = append(errs, fmt.Errorf("fixing %s does not give %s:\n%s", catalog.FailingFile, catalog.FixedFile, diff))
	}
	return errors.Join(errs...)
}

func fixtureSet(c *catalog.Control, fsys fs.FS, dir, name string) (*manifest.Set, error) {
	data, err := fs.ReadFile(fsys, path.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	f, err := yamledit.Parse(path.Join(c.Dir, name), data, yamledit.Options{})
	if err != nil {
		return nil, err
	}
	set := manifest.FromFiles(f)
	if len(set.Objects) == 0 {
		return nil, fmt.Errorf("%s holds no Kubernetes object", name)
	}
	return set, nil
}

func failures(c *catalog.Control, set *manifest.Set) int {
	n := 0
	for _, o := range set.Objects {
		for _, r := range check.Run([]*catalog.Control{c}, o, check.Options{}) {
			if r.Finding.Suppression == nil {
				n++
			}
		}
	}
	return n
}

// patchesGive applies, object by object, the applied fixes' strategic-merge
// patches (with apimachinery) and RFC 6902 ops (with evanphx/json-patch) to
// the failing objects and checks both give the objects of fixed.yaml: the
// manual fallback is the same change as the in-place edit.
func patchesGive(c *catalog.Control, failing *manifest.Set, r *FileResult, want []byte) error {
	fixed, err := yamledit.Parse(path.Join(c.Dir, catalog.FixedFile), want, yamledit.Options{})
	if err != nil {
		return err
	}
	wantSet := manifest.FromFiles(fixed)
	if len(wantSet.Objects) != len(failing.Objects) {
		return fmt.Errorf("%s has %d objects, %s %d", catalog.FixedFile, len(wantSet.Objects), catalog.FailingFile, len(failing.Objects))
	}
	for i, o := range failing.Objects {
		orig, err := o.Node.MarshalJSON()
		if err != nil {
			return err
		}
		wantJSON, err := wantSet.Objects[i].Node.MarshalJSON()
		if err != nil {
			return err
		}
		smp, ops := orig, orig
		for _, a := range r.Applied {
			if a.Fix.Result.Finding.Object != o.Ref {
				continue
			}
			if smp, err = patch.ApplyStrategicMerge(o.Ref.Kind, smp, a.Fix.StrategicMergeJSON); err != nil {
				return fmt.Errorf("%s: strategic-merge patch: %w", o.Ref, err)
			}
			if ops, err = patch.ApplyJSONPatch(ops, a.Fix.JSONPatch); err != nil {
				return fmt.Errorf("%s: RFC 6902 patch: %w", o.Ref, err)
			}
		}
		if !patch.SameJSON(smp, wantJSON) {
			return fmt.Errorf("%s: the strategic-merge patches do not give %s", o.Ref, catalog.FixedFile)
		}
		if !patch.SameJSON(ops, wantJSON) {
			return fmt.Errorf("%s: the RFC 6902 patches do not give %s", o.Ref, catalog.FixedFile)
		}
	}
	return nil
}
