package render

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/patch"
	"github.com/kmend/kmend/internal/remediate"
	"github.com/kmend/kmend/internal/yamledit"
)

// ChangeSet is what one pull request proposes: the verified fixes that go
// into one branch, the findings left for a person, and the diff.
type ChangeSet struct {
	// Repo is "owner/name"; Base and Head are the branches the pull request
	// merges (Head into Base).
	Repo string
	Base string
	Head string
	// Group is what the change set gathers (see Group).
	Group Group
	// Catalog identifies the catalog the fixes were made with (CatalogDigest);
	// it is recorded in the metadata block.
	Catalog string
	// Config identifies the repository configuration the change set was
	// made with (recorded in the metadata block).
	Config string
	// Fixes are the verified fixes. Fixes of one object must be in the order
	// they were applied: each RFC 6902 patch applies to the object as the
	// fixes before it left it. FromResults keeps remediate's order.
	Fixes []Fix
	// Left are findings this change does not fix: fixes that need review
	// or are manual, and fixes kmend could not verify.
	Left []Left
	// Files are the unified diffs of the changed files.
	Files []FileDiff
}

// Group names what a change set gathers: Key is stable and recorded in the
// metadata ("repository", "control/KM-002", "directory/apps/payments");
// Title is for people ("payments"), used in the title when set.
type Group struct {
	Key   string
	Title string
}

// Fix is one verified fix: the findings it repairs (a pod-level fix can
// repair several containers; all share the control and the object), the
// file and line it edits, and the patch to apply it by hand.
type Fix struct {
	Control  *catalog.Control
	Findings []finding.Finding
	File     string
	Line     int
	Patch    Patch
}

// Left is a finding this change set does not fix, with why, and the patch
// to apply by hand when kmend has one.
type Left struct {
	Finding finding.Finding
	Control *catalog.Control
	// Why it is left, for people: "needs review: the value is set
	// explicitly with a comment", "fix by hand", "kmend could not verify
	// its fix: …".
	Why string
	// Patch applies to the object as this change set leaves it; nil when
	// kmend has no patch to offer.
	Patch *Patch
}

// Patch is a fix in the forms a person can apply by hand.
type Patch struct {
	// StrategicMerge is the strategic-merge patch for the whole object, as
	// YAML.
	StrategicMerge string
	// JSONPatch is the RFC 6902 operations for the whole object, as
	// indented JSON.
	JSONPatch string
	// Kubectl are ready-to-run kubectl patch commands.
	Kubectl []string
	// Note is a caveat about applying the patch to a live object.
	Note string
}

// FileDiff is the unified diff of one changed file.
type FileDiff struct {
	Path string
	Diff string
}

// PatchOf converts a patch.Fix into the forms shown in a pull request.
func PatchOf(f *patch.Fix) (Patch, error) {
	ops, err := json.MarshalIndent(f.JSONPatch, "", "  ")
	if err != nil {
		return Patch{}, fmt.Errorf("RFC 6902 patch of %s: %w", f.Result.Control.ID, err)
	}
	return Patch{
		StrategicMerge: strings.TrimRight(string(f.StrategicMerge), "\n") + "\n",
		JSONPatch:      string(ops) + "\n",
		Kubectl:        slices.Clone(f.Kubectl),
		Note:           f.Note,
	}, nil
}

// UnifiedDiff is the diff of one file as kmend shows it everywhere
// (a/ and b/ prefixes, 3 lines of context); "" when nothing changed.
func UnifiedDiff(path string, before, after []byte) (string, error) {
	if bytes.Equal(before, after) {
		return "", nil
	}
	p := strings.TrimPrefix(path, "./")
	return difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        difflib.SplitLines(string(before)),
		B:        difflib.SplitLines(string(after)),
		FromFile: "a/" + p,
		ToFile:   "b/" + p,
		Context:  3,
	})
}

// CatalogDigest identifies a set of controls: "sha256:" and the first 12
// hex digits of the digest of the controls (as JSON, by ID). It changes
// when a control's check, fix or text changes.
func CatalogDigest(controls []*catalog.Control) string {
	cs := slices.Clone(controls)
	slices.SortFunc(cs, func(a, b *catalog.Control) int { return cmp.Compare(a.ID, b.ID) })
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, c := range cs {
		if err := enc.Encode(c); err != nil {
			// A control that cannot be encoded still counts by its ID.
			h.Write([]byte(c.ID))
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:12]
}

// FromResults builds a change set from what remediate did: one Fix per
// applied fix (in remediate's order), the diff of each changed file, and
// the findings it left or dropped. A left finding gets a patch that applies
// to the file as fixed when its control has one; a left finding the fixes
// repaired on the way is not listed. controls and opts must be those the
// results were made with. Repo, Base, Head and Group are for the caller to
// fill in.
func FromResults(results []*remediate.FileResult, controls []*catalog.Control, opts check.Options) (ChangeSet, error) {
	cs := ChangeSet{Catalog: CatalogDigest(controls)}
	byID := map[string]*catalog.Control{}
	for _, c := range controls {
		byID[c.ID] = c
	}
	sorted := slices.Clone(results)
	slices.SortStableFunc(sorted, func(a, b *remediate.FileResult) int { return cmp.Compare(a.Path, b.Path) })
	for _, r := range sorted {
		if r.Changed() {
			d, err := UnifiedDiff(r.Path, r.Before, r.After)
			if err != nil {
				return ChangeSet{}, fmt.Errorf("diff %s: %w", r.Path, err)
			}
			if d != "" {
				cs.Files = append(cs.Files, FileDiff{Path: r.Path, Diff: d})
			}
		}
		for _, a := range r.Applied {
			if len(a.Findings) == 0 {
				continue
			}
			p, err := PatchOf(a.Fix)
			if err != nil {
				return ChangeSet{}, err
			}
			cs.Fixes = append(cs.Fixes, Fix{
				Control:  a.Fix.Result.Control,
				Findings: slices.Clone(a.Findings),
				File:     r.Path,
				Line:     a.Findings[0].Position.Line,
				Patch:    p,
			})
		}
		left, err := leftOf(r, controls, opts)
		if err != nil {
			return ChangeSet{}, err
		}
		for i := range left {
			left[i].Control = cmp.Or(left[i].Control, byID[left[i].Finding.ControlID])
		}
		cs.Left = append(cs.Left, left...)
		for _, d := range r.Dropped {
			cs.Left = append(cs.Left, Left{
				Finding: d.Finding,
				Control: byID[d.Finding.ControlID],
				Why:     "kmend could not verify its fix: " + d.Reason,
			})
		}
	}
	return cs, nil
}

// leftOf lists the findings remediate left in a file with their patches,
// computed on the file as fixed (so that they apply after this change).
func leftOf(r *remediate.FileResult, controls []*catalog.Control, opts check.Options) ([]Left, error) {
	if len(r.Left) == 0 {
		return nil, nil
	}
	data := r.Before
	if r.Changed() {
		data = r.After
	}
	f, err := yamledit.Parse(r.Path, data, yamledit.Options{})
	if err != nil {
		if !r.Changed() {
			// The findings were read from these bytes; without a parse
			// there are no patches, but the findings stand.
			out := make([]Left, len(r.Left))
			for i, fd := range r.Left {
				out[i] = Left{Finding: fd, Why: whyLeft(fd)}
			}
			return out, nil
		}
		return nil, fmt.Errorf("%s as fixed: %w", r.Path, err)
	}
	now := map[string]check.Result{}
	for _, o := range manifest.FromFiles(f).Objects {
		for _, res := range check.Run(controls, o, opts) {
			now[res.Finding.Fingerprint()] = res
		}
	}
	var out []Left
	for _, fd := range r.Left {
		res, still := now[fd.Fingerprint()]
		if !still {
			continue // a fix of this change set repaired it too
		}
		l := Left{Finding: fd, Control: res.Control, Why: whyLeft(fd)}
		if res.Control != nil && res.Control.Fix.StrategicMerge != "" {
			if fx, err := patch.New(res, res.Root); err == nil {
				if p, err := PatchOf(fx); err == nil {
					l.Patch = &p
				}
			}
		}
		out = append(out, l)
	}
	return out, nil
}

func whyLeft(f finding.Finding) string {
	switch f.Fixability {
	case finding.FixReview:
		if f.ReviewNote != "" {
			return "needs review: " + f.ReviewNote
		}
		return "needs review: kmend can write this fix, but a person must confirm it"
	case finding.FixManual:
		return "fix by hand: kmend does not change this itself"
	}
	return "not selected for this change"
}

func itoa(n int) string { return strconv.Itoa(n) }
