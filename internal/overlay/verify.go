package overlay

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/kustomize"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/parallel"
	"github.com/kmend/kmend/internal/patch"
)

// intent is what a change may do: per root, per object (objKey), the
// strategic-merge patch (JSON) whose effect is allowed, and the findings
// (fingerprints) it must repair there.
type intent map[string]map[string]*intended

type intended struct {
	smps   [][]byte // applied in order
	repair []string
}

func (in intent) add(root, obj string, smp []byte, fingerprint string) {
	if in[root] == nil {
		in[root] = map[string]*intended{}
	}
	it := in[root][obj]
	if it == nil {
		it = &intended{}
		in[root][obj] = it
	}
	if !slices.ContainsFunc(it.smps, func(b []byte) bool { return string(b) == string(smp) }) {
		it.smps = append(it.smps, smp)
	}
	it.repair = append(it.repair, fingerprint)
}

// objKey names a rendered object within its root.
func objKey(o kustomize.Object) string { return o.Ref.APIVersion + "|" + o.Ref.String() }

// outcome is what a verified change did.
type outcome struct {
	next map[string]*rendered // the new renderings of the roots it affected
	// changed lists, per root, the objects that changed as intended.
	changed map[string][]string
}

// invariantError says how a change broke the invariant, and where.
type invariantError struct {
	// Root is the kustomization where it was seen.
	Root string
	Msg  string
}

func (e *invariantError) Error() string { return orDot(e.Root) + ": " + e.Msg }

// verify renders, with changes laid over st, every root that read a
// changed file, and checks the invariant: each of them still renders, the
// same objects, identical except objects in the intent, which either did
// not change or became exactly the intended patch applied to them; at
// least one object changed; the findings to repair are gone there, and no
// control fails that did not fail before.
func (pl *planner) verify(cur map[string]*rendered, st *view, changes map[string][]byte, in intent) (*outcome, error) {
	var changed []string
	for p, b := range changes {
		if old, err := st.read(p); err != nil || string(old) != string(b) {
			changed = append(changed, p)
		}
	}
	if len(changed) == 0 {
		return nil, fmt.Errorf("the edit changes no file")
	}
	next := st.with(changes)
	var affected []string
	for root, rr := range cur {
		if rr.err != nil || rr.r == nil {
			continue // did not render before: nothing to compare
		}
		for _, p := range changed {
			if _, ok := rr.r.Reads[p]; ok {
				affected = append(affected, root)
				break
			}
		}
	}
	sort.Strings(affected)
	renders := make([]*rendered, len(affected))
	parallel.Each(len(affected), func(i int) {
		r, err := pl.cache.render(pl.repo, affected[i], next)
		renders[i] = &rendered{r: r, err: err}
	}, nil)
	out := &outcome{next: map[string]*rendered{}, changed: map[string][]string{}}
	for i, root := range affected {
		after := renders[i]
		if after.err != nil {
			return nil, &invariantError{Root: root, Msg: "no longer renders: " + after.err.Error()}
		}
		keys, err := pl.compare(root, cur[root].r, after.r, in[root])
		if err != nil {
			return nil, err
		}
		out.next[root] = after
		if len(keys) > 0 {
			out.changed[root] = keys
		}
	}
	if len(out.changed) == 0 {
		return nil, fmt.Errorf("the edit changes no rendering")
	}
	return out, nil
}

// compare checks one root's renderings before and after a change and
// returns the objects that changed as intended.
func (pl *planner) compare(root string, before, after *kustomize.Rendering, want map[string]*intended) ([]string, error) {
	bm, am := byKey(before), byKey(after)
	for k := range am {
		if _, ok := bm[k]; !ok {
			return nil, &invariantError{Root: root, Msg: "renders a new object " + am[k].Ref.String()}
		}
	}
	var changed []string
	for _, k := range sortedKeys(bm) {
		b := bm[k]
		a, ok := am[k]
		if !ok {
			return nil, &invariantError{Root: root, Msg: "no longer renders " + b.Ref.String()}
		}
		bj, err := patch.JSON(b.Node)
		if err != nil {
			return nil, err
		}
		aj, err := patch.JSON(a.Node)
		if err != nil {
			return nil, err
		}
		if patch.SameJSON(bj, aj) {
			continue
		}
		it := want[k]
		if it == nil {
			return nil, &invariantError{Root: root, Msg: fmt.Sprintf("%s changes where no fix was meant: %s", b.Ref, fieldDiff(bj, aj))}
		}
		expected := bj
		for _, smp := range it.smps {
			if expected, err = patch.ApplyStrategicMerge(b.Ref.Kind, expected, smp); err != nil {
				return nil, err
			}
		}
		if !patch.SameJSON(aj, expected) {
			return nil, &invariantError{Root: root, Msg: fmt.Sprintf("%s changes other than the fix means to: %s", b.Ref, fieldDiff(expected, aj))}
		}
		if err := pl.recheck(root, b, a, it); err != nil {
			return nil, err
		}
		changed = append(changed, k)
	}
	return changed, nil
}

// recheck runs the controls on an object before and after: the findings
// to repair must be gone, and nothing may fail that did not.
func (pl *planner) recheck(root string, b, a kustomize.Object, it *intended) error {
	was := map[string]bool{}
	for _, r := range check.Run(pl.controls, manifest.Object{Node: b.Node, Ref: b.Ref}, pl.opts.Check) {
		was[r.Finding.Fingerprint()] = true
	}
	now := map[string]check.Result{}
	for _, r := range check.Run(pl.controls, manifest.Object{Node: a.Node, Ref: a.Ref}, pl.opts.Check) {
		now[r.Finding.Fingerprint()] = r
	}
	for _, fp := range it.repair {
		if r, still := now[fp]; still {
			return &invariantError{Root: root, Msg: fmt.Sprintf("%s still fails %s at %s", b.Ref, r.Control.ID, r.Finding.Path)}
		}
	}
	for fp, r := range now {
		if !was[fp] {
			return &invariantError{Root: root, Msg: fmt.Sprintf("the fix makes %s fail on %s (%s)", r.Control.ID, b.Ref, r.Finding.Path)}
		}
	}
	return nil
}

func byKey(r *kustomize.Rendering) map[string]kustomize.Object {
	m := make(map[string]kustomize.Object, len(r.Objects))
	for _, o := range r.Objects {
		m[objKey(o)] = o
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// fieldDiff lists the fields where two JSON documents differ (at most a
// few), as field paths.
func fieldDiff(a, b []byte) string {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return "the objects differ"
	}
	var out []string
	diffValues(x, y, "", &out)
	if len(out) == 0 {
		return "the objects differ"
	}
	more := ""
	if len(out) > 5 {
		more = fmt.Sprintf(" and %d more", len(out)-5)
		out = out[:5]
	}
	return strings.Join(out, ", ") + more
}

func diffValues(a, b any, p string, out *[]string) {
	if reflect.DeepEqual(a, b) {
		return
	}
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		ks := make([]string, 0, len(keys))
		for k := range keys {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		for _, k := range ks {
			diffValues(am[k], bm[k], joinField(p, k), out)
		}
		return
	}
	al, aok := a.([]any)
	bl, bok := b.([]any)
	if aok && bok && len(al) == len(bl) {
		for i := range al {
			diffValues(al[i], bl[i], p+"["+strconv.Itoa(i)+"]", out)
		}
		return
	}
	if p == "" {
		p = "(the whole object)"
	}
	*out = append(*out, p)
}

func joinField(p, k string) string {
	if p == "" {
		return k
	}
	return p + "." + k
}
