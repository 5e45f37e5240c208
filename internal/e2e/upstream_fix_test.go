package e2e

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/helm"
	"github.com/kmend/kmend/internal/kustomize"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/overlay"
)

// copyRepo copies a fixture repository into a temporary directory.
func copyRepo(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(dir, os.DirFS(fixtures(name))); err != nil {
		t.Fatal(err)
	}
	return dir
}

// readTree reads every file of a directory, by slash path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// leaves flattens a rendered object into field path → value, list items
// by index: spec.template.spec.containers.0.securityContext.privileged.
func leaves(t *testing.T, n *yaml.RNode) map[string]string {
	t.Helper()
	m, err := n.Map()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(p string, v any)
	walk = func(p string, v any) {
		join := func(k string) string {
			if p == "" {
				return k
			}
			return p + "." + k
		}
		switch v := v.(type) {
		case map[string]any:
			if len(v) == 0 {
				out[p] = "{}"
			}
			for k, c := range v {
				walk(join(k), c)
			}
		case []any:
			if len(v) == 0 {
				out[p] = "[]"
			}
			for i, c := range v {
				walk(join(strconv.Itoa(i)), c)
			}
		default:
			b, _ := yaml.Marshal(v)
			out[p] = strings.TrimSpace(string(b))
		}
	}
	walk("", m)
	return out
}

// fieldPath turns a finding's path (spec.containers[0].securityContext)
// or an RFC 6902 pointer (/spec/containers/0/securityContext) into the
// form of leaves.
func fieldPath(p string) string {
	if strings.HasPrefix(p, "/") {
		p = strings.ReplaceAll(strings.ReplaceAll(strings.TrimPrefix(p, "/"), "~1", "/"), "~0", "~")
		return strings.ReplaceAll(p, "/", ".")
	}
	return strings.NewReplacer("[", ".", "]", "").Replace(p)
}

// under reports whether field p is named by one of the allowed paths (it
// is one of them, or below one).
func under(p string, allowed []string) bool {
	for _, a := range allowed {
		if p == a || strings.HasPrefix(p, a+".") {
			return true
		}
	}
	return false
}

// emptied reports whether p is an empty map or list in x that y fills:
// not a change of its own (the fields set in it are compared).
func emptied(p string, x, y map[string]string) bool {
	if (x[p] != "{}" && x[p] != "[]") || y[p] != "" {
		return false
	}
	for q := range y {
		if strings.HasPrefix(q, p+".") {
			return true
		}
	}
	return false
}

// diffObjects compares two renderings object by object and field path by
// field path. allowed names, per object (finding.ObjectRef.String()), the
// fields that may change. It returns what changed outside them, and the
// objects that changed.
func diffObjects(t *testing.T, what string, before, after map[string]*yaml.RNode, allowed map[string][]string) (bad []string, changed []string) {
	t.Helper()
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range before {
			if !yield(k) {
				return
			}
		}
	})
	for k := range after {
		if before[k] == nil {
			bad = append(bad, what+": "+k+" appeared")
		}
	}
	for _, k := range keys {
		if after[k] == nil {
			bad = append(bad, what+": "+k+" disappeared")
			continue
		}
		b, a := leaves(t, before[k]), leaves(t, after[k])
		moved := false
		for _, p := range slices.Sorted(func(yield func(string) bool) {
			seen := map[string]bool{}
			for _, m := range []map[string]string{b, a} {
				for p := range m {
					if !seen[p] {
						seen[p] = true
						if !yield(p) {
							return
						}
					}
				}
			}
		}) {
			if b[p] == a[p] || emptied(p, b, a) || emptied(p, a, b) {
				continue
			}
			moved = true
			if !under(p, allowed[k]) {
				bad = append(bad, what+": "+k+" "+p+": "+strconv.Quote(b[p])+" → "+strconv.Quote(a[p])+" (no fix names it)")
			}
		}
		if moved {
			changed = append(changed, k)
		}
	}
	return bad, changed
}

// renderRoots builds every kustomization of repo: root → object → node,
// and root → error for those that do not render.
func renderRoots(t *testing.T, repo string) (map[string]map[string]*yaml.RNode, map[string]error) {
	t.Helper()
	roots, err := kustomize.Roots(repo)
	if err != nil {
		t.Fatal(err)
	}
	out, errs := map[string]map[string]*yaml.RNode{}, map[string]error{}
	for _, r := range roots {
		objs, err := kustomize.Build(repo, r)
		if err != nil {
			errs[r] = err
			continue
		}
		out[r] = map[string]*yaml.RNode{}
		for _, o := range objs {
			out[r][o.Ref.String()] = o.Node
		}
	}
	return out, errs
}

func builtinControls(t *testing.T) []*catalog.Control {
	t.Helper()
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	return cat.All()
}

// failingControls returns the controls failing (not suppressed) on an
// object, as "KM-002 container" keys.
func failingControls(controls []*catalog.Control, ref finding.ObjectRef, n *yaml.RNode) map[string]bool {
	out := map[string]bool{}
	for _, r := range check.Run(controls, manifest.Object{Node: n, Ref: ref}, check.Options{}) {
		if r.Finding.Suppression == nil {
			out[r.Finding.ControlID+" "+r.Finding.Container] = true
		}
	}
	return out
}

// fixabilities are the selections the fix tests run with: kmend fix's
// default (auto), and with the fixes a person confirms (review).
var fixabilities = [][]finding.Fixability{{finding.FixAuto}, {finding.FixAuto, finding.FixReview}}

func fxName(fx []finding.Fixability) string {
	var s []string
	for _, f := range fx {
		s = append(s, string(f))
	}
	return strings.Join(s, "+")
}

// TestUpstreamKustomizeFixesKeepRendering runs the kustomize fixer with
// the whole built-in catalog (auto fixes, then auto and review) on the repositories written by
// others, writes the fixes into a copy, renders every kustomization before
// and after with kustomize itself, and checks that every kustomization
// still renders, to the same objects, whose only changed fields are the
// ones the reported fixes name (each finding's field and its fix's RFC
// 6902 paths); that each fixed finding is gone; that no control fails that
// did not; and that only the reported files changed.
func TestUpstreamKustomizeFixesKeepRendering(t *testing.T) {
	controls := builtinControls(t)
	for _, tc := range []struct {
		repo string
		// fixed: the files the fixes may edit (the file a person would:
		// the kustomize resource defining the workload).
		fixed []string
		// roots that must render, before and after.
		roots []string
	}{
		{"argocd-example-apps", []string{"kustomize-guestbook/guestbook-ui-deployment.yaml"}, []string{"kustomize-guestbook"}},
		// The Flux example's kustomizations render HelmReleases,
		// Namespaces and sources, no workload: nothing to fix here (the
		// charts' workloads are fixed through the HelmReleases' values).
		{"flux2-kustomize-helm-example", nil, []string{"apps/base/podinfo", "apps/production", "apps/staging",
			"infrastructure/configs", "infrastructure/controllers"}},
	} {
		for _, fx := range fixabilities {
			t.Run(tc.repo+"/"+fxName(fx), func(t *testing.T) {
				repo := copyRepo(t, tc.repo)
				filesBefore := readTree(t, repo)
				before, errsBefore := renderRoots(t, repo)
				if len(errsBefore) > 0 {
					t.Fatalf("kustomizations that do not render: %v", errsBefore)
				}
				if got := slices.Sorted(func(yield func(string) bool) {
					for r := range before {
						if !yield(r) {
							return
						}
					}
				}); !slices.Equal(got, tc.roots) {
					t.Fatalf("kustomizations %q, want %q", got, tc.roots)
				}

				res, err := overlay.Plan(repo, controls, overlay.Options{Fixability: fx})
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Errors) > 0 {
					t.Errorf("plan errors: %v", res.Errors)
				}
				for _, d := range res.Dropped {
					t.Errorf("dropped: %s %s: %s", d.Placement, d.File, d.Reason)
				}
				allowed := map[string]map[string][]string{} // root → object → fields
				fixedFindings := map[string]map[string]bool{}
				for _, f := range res.Fixes {
					var controlIDs []string
					for _, fd := range f.Findings {
						controlIDs = append(controlIDs, fd.ControlID)
					}
					t.Logf("fixed %s (%s) in %s:%d [%s], rendering changed in %s", strings.Join(slices.Compact(controlIDs), ","), f.Placement, f.File, f.Line,
						f.Source, strings.Join(f.Changed, ", "))
					if !slices.Contains(tc.fixed, f.File) || len(f.Also) > 0 {
						t.Errorf("fix %s in %s (also %q): not the file a person would edit (%q)", strings.Join(controlIDs, ","), f.File, f.Also, tc.fixed)
					}
					for _, fd := range f.Findings {
						obj := fd.Object.String()
						if allowed[fd.Root] == nil {
							allowed[fd.Root], fixedFindings[fd.Root] = map[string][]string{}, map[string]bool{}
						}
						a := append(allowed[fd.Root][obj], fieldPath(fd.Path))
						if f.Patch != nil {
							for _, op := range f.Patch.JSONPatch {
								a = append(a, fieldPath(op.Path))
							}
						}
						allowed[fd.Root][obj] = a
						fixedFindings[fd.Root][obj+" "+fd.ControlID+" "+fd.Container] = true
					}
				}
				for _, l := range res.Left {
					t.Logf("left %s on %s in %s: %s", l.ControlID, l.Object, l.Root, l.Reason)
					if l.Reason == "" {
						t.Errorf("left %s on %s without a reason", l.ControlID, l.Object)
					}
				}
				if (len(tc.fixed) > 0) != (len(res.Fixes) > 0) {
					t.Errorf("%d fixes, want them in %q", len(res.Fixes), tc.fixed)
				}

				written, err := res.Write()
				if err != nil {
					t.Fatal(err)
				}
				filesAfter := readTree(t, repo)
				for p, b := range filesAfter {
					if !bytes.Equal(filesBefore[p], b) && !slices.Contains(written, p) {
						t.Errorf("%s changed but was not reported written", p)
					}
				}
				for _, p := range written {
					if !slices.Contains(tc.fixed, p) {
						t.Errorf("wrote %s", p)
					}
				}

				after, errsAfter := renderRoots(t, repo)
				for r, err := range errsAfter {
					t.Errorf("%s renders no longer: %v", r, err)
				}
				for _, r := range tc.roots {
					bad, changed := diffObjects(t, r, before[r], after[r], allowed[r])
					for _, b := range bad {
						t.Error(b)
					}
					// Every fixed object changed, and its findings are gone;
					// nothing fails that did not.
					for obj := range allowed[r] {
						if !slices.Contains(changed, obj) {
							t.Errorf("%s: %s: the fixes changed nothing", r, obj)
						}
					}
					for obj, n := range after[r] {
						ref, _ := manifest.ObjectRefOf(n)
						was := failingControls(controls, ref, before[r][obj])
						for c := range failingControls(controls, ref, n) {
							if fixedFindings[r][obj+" "+c] {
								t.Errorf("%s: %s: %s still fails after its fix", r, obj, c)
							}
							if !was[c] {
								t.Errorf("%s: %s: %s fails after the fixes, not before", r, obj, c)
							}
						}
					}
					t.Logf("%s: %d objects, changed: %q", r, len(after[r]), changed)
				}
			})
		}
	}
}

// TestUpstreamHelmGuestbookValuesFix plans the helm-guestbook chart of
// argocd-example-apps as its Argo CD Application deploys it (release
// helm-guestbook in namespace helm-guestbook, the chart's values.yaml),
// writes the values keys into a copy, renders the chart again with the
// Helm SDK and compares object by object: only the fields the fixes name
// change, the fixed findings are gone, nothing new fails. Findings no
// values key reaches (the chart's templates read no securityContext) are
// Manual, each with its patch to apply after rendering and the keys tried.
func TestUpstreamHelmGuestbookValuesFix(t *testing.T) {
	controls := builtinControls(t)
	for _, fx := range fixabilities {
		t.Run(fxName(fx), func(t *testing.T) { helmGuestbookFix(t, controls, fx) })
	}
}

func helmGuestbookFix(t *testing.T, controls []*catalog.Control, fx []finding.Fixability) {
	repo := copyRepo(t, "argocd-example-apps")
	r := helm.Renderer{Repo: repo, Release: "helm-guestbook", Namespace: "helm-guestbook"}
	res, err := helm.Plan("helm-guestbook", nil, controls, helm.Options{Renderer: r, Fixability: fx})
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string][]string{}
	fixed := map[string]bool{}
	for _, f := range res.Fixes {
		t.Logf("fixed %s: %s: %s = %s (%s, line %d)", f.ControlID, f.File(), f.KeyString(), f.Value, f.Origin, f.Line)
		if f.File() != "helm-guestbook/values.yaml" {
			t.Errorf("%s: key set in %s, not the chart's values.yaml", f.ControlID, f.File())
		}
		for _, fd := range f.Findings {
			obj := fd.Object.String()
			allowed[obj] = append(allowed[obj], fieldPath(fd.Path))
			if f.Patch != nil {
				for _, op := range f.Patch.JSONPatch {
					allowed[obj] = append(allowed[obj], fieldPath(op.Path))
				}
			}
			fixed[obj+" "+fd.ControlID+" "+fd.Container] = true
		}
	}
	for _, m := range res.Manual {
		t.Logf("manual %s on %s: %s (%d keys tried)", m.Finding.ControlID, m.Finding.Object, m.Reason, len(m.Tried))
		if m.Reason == "" || (m.Patch != nil && len(m.Kustomize) == 0) {
			t.Errorf("manual %s: no reason or no kustomize patch", m.Finding.ControlID)
		}
	}
	for _, l := range res.Left {
		t.Logf("left %s on %s (%s)", l.ControlID, l.Object, l.Fixability)
	}
	if len(res.Fixes)+len(res.Manual) == 0 {
		t.Fatal("no finding fixed or handed over as a manual patch")
	}
	written, err := res.Write()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files {
		if f.Changed() {
			t.Logf("%s after the fixes:\n%s", f.Path, f.After)
		}
	}
	for _, p := range written {
		if p != "helm-guestbook/values.yaml" {
			t.Errorf("wrote %s", p)
		}
	}
	if (len(written) > 0) != (len(res.Fixes) > 0) {
		t.Errorf("wrote %q for %d fixes", written, len(res.Fixes))
	}

	after, err := r.Render("helm-guestbook")
	if err != nil {
		t.Fatalf("the chart renders no longer: %v", err)
	}
	byRef := func(objs []helm.Object) map[string]*yaml.RNode {
		out := map[string]*yaml.RNode{}
		for _, o := range objs {
			out[o.Ref.String()] = o.Node
		}
		return out
	}
	b, a := byRef(res.Objects), byRef(after)
	bad, changed := diffObjects(t, "helm-guestbook", b, a, allowed)
	for _, x := range bad {
		t.Error(x)
	}
	for obj := range allowed {
		if !slices.Contains(changed, obj) {
			t.Errorf("%s: the fixes changed nothing", obj)
		}
	}
	for obj, n := range a {
		ref, _ := manifest.ObjectRefOf(n)
		was := failingControls(controls, ref, b[obj])
		for c := range failingControls(controls, ref, n) {
			if fixed[obj+" "+c] {
				t.Errorf("%s: %s still fails after its fix", obj, c)
			}
			if !was[c] {
				t.Errorf("%s: %s fails after the fixes, not before", obj, c)
			}
		}
	}
	t.Logf("%d objects, changed: %q", len(a), changed)
}
