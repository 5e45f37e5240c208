package overlay

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
)

const sampleRepo = "../../fixtures/kustomize-repo"

func controls(t *testing.T, ids ...string) []*catalog.Control {
	t.Helper()
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := cat.Select(ids)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// started returns a planner on the sample repository with every root
// rendered.
func started(t *testing.T, repo string, ids ...string) (*planner, map[string]*rendered) {
	t.Helper()
	pl, err := newPlanner(repo, controls(t, ids...), Options{Fixability: []finding.Fixability{finding.FixAuto, finding.FixReview}})
	if err != nil {
		t.Fatal(err)
	}
	res, cur := pl.start()
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	return pl, cur
}

func read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sampleRepo, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// nginxFix is the fix of KM-002 for the nginx container, as a
// strategic-merge patch.
const nginxFix = `{"spec":{"template":{"spec":{"containers":[{"name":"nginx","securityContext":{"allowPrivilegeEscalation":false}}]}}}}`

// webIntent allows the nginx fix on the web Deployment in every root that
// renders it.
func webIntent() intent {
	in := intent{}
	for root, name := range map[string]string{
		"base/web": "Deployment/web", "overlays/dev": "Deployment/shop-dev/dev-web",
		"overlays/staging": "Deployment/shop-staging/web-staging", "overlays/prod": "Deployment/shop-prod/prod-web",
	} {
		in.add(root, "apps/v1|"+name, []byte(nginxFix), "")
	}
	return in
}

// TestInvariant tests the checker directly with edits written by hand:
// the right edit passes; an edit that changes another field, breaks a
// kustomization, adds an object, changes nothing, does not repair what
// it should, or makes another control fail is caught, with where and
// what.
func TestInvariant(t *testing.T) {
	pl, cur := started(t, sampleRepo, "KM-001", "KM-002")
	deployment := read(t, "base/web/deployment.yaml")
	fixed := strings.Replace(deployment, "            runAsNonRoot: true\n", "            runAsNonRoot: true\n            allowPrivilegeEscalation: false\n", 1)
	if fixed == deployment {
		t.Fatal("the test edit did not apply")
	}
	// The KM-002 finding of nginx in overlays/dev, which the fix repairs.
	var devFinding string
	for _, o := range cur["overlays/dev"].r.Objects {
		for _, r := range check.Run(pl.controls, manifest.Object{Node: o.Node, Ref: o.Ref}, check.Options{}) {
			if r.Control.ID == "KM-002" && r.Target.Container == "nginx" {
				devFinding = r.Finding.Fingerprint()
			}
		}
	}
	if devFinding == "" {
		t.Fatal("no KM-002 finding on nginx in overlays/dev")
	}

	t.Run("right", func(t *testing.T) {
		in := webIntent()
		in["overlays/dev"]["apps/v1|Deployment/shop-dev/dev-web"].repair = []string{devFinding}
		out, err := pl.verify(cur, pl.before, map[string][]byte{"base/web/deployment.yaml": []byte(fixed)}, in)
		if err != nil {
			t.Fatal(err)
		}
		// prod's own patch sets the flag: its rendering does not change,
		// and it is rendered again all the same (it reads the base).
		if len(out.next) != 4 || len(out.changed) != 3 || out.changed["overlays/prod"] != nil {
			t.Fatalf("rendered again %d roots, changed %v", len(out.next), out.changed)
		}
	})

	for _, tc := range []struct {
		name    string
		changes map[string][]byte
		in      intent
		want    string // in the error
		root    string // where it is seen
	}{
		{
			name:    "another field",
			changes: map[string][]byte{"base/web/deployment.yaml": []byte(strings.Replace(fixed, "replicas: 2", "replicas: 3", 1))},
			in:      webIntent(),
			want:    "Deployment/web changes other than the fix means to: spec.replicas",
			root:    "base/web",
		},
		{
			name:    "another object",
			changes: map[string][]byte{"base/web/service.yaml": []byte(strings.Replace(read(t, "base/web/service.yaml"), "port: 80", "port: 8080", 1))},
			in:      webIntent(),
			want:    "Service/web changes where no fix was meant: spec.ports[0].port",
			root:    "base/web",
		},
		{
			name: "breaks a kustomization",
			changes: map[string][]byte{"overlays/dev/kustomization.yaml": []byte(strings.Replace(read(t, "overlays/dev/kustomization.yaml"),
				"- path: debug-patch.yaml", "- path: missing-patch.yaml", 1))},
			in:   webIntent(),
			want: "no longer renders",
			root: "overlays/dev",
		},
		{
			name:    "adds an object",
			changes: map[string][]byte{"base/web/service.yaml": []byte(read(t, "base/web/service.yaml") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n")},
			in:      webIntent(),
			want:    "renders a new object ConfigMap/extra",
			root:    "base/web",
		},
		{
			name:    "does not repair",
			changes: map[string][]byte{"base/web/deployment.yaml": []byte(fixed)},
			in: func() intent {
				in := intent{}
				// The fix is meant for nginx, but the finding to repair
				// is said to be another one that stays.
				in.add("overlays/dev", "apps/v1|Deployment/shop-dev/dev-web", []byte(nginxFix), "")
				for _, o := range cur["overlays/dev"].r.Objects {
					for _, r := range check.Run(pl.controls, manifest.Object{Node: o.Node, Ref: o.Ref}, check.Options{}) {
						if r.Control.ID == "KM-002" && r.Target.Container == "exporter" {
							in["overlays/dev"]["apps/v1|Deployment/shop-dev/dev-web"].repair = []string{r.Finding.Fingerprint()}
						}
					}
				}
				for root, objs := range webIntent() {
					if root != "overlays/dev" {
						in[root] = objs
					}
				}
				return in
			}(),
			want: "still fails KM-002",
			root: "overlays/dev",
		},
		{
			name: "makes another control fail",
			changes: map[string][]byte{"base/web/deployment.yaml": []byte(strings.Replace(deployment, "            runAsNonRoot: true\n",
				"            runAsNonRoot: true\n            privileged: true\n", 1))},
			in: func() intent {
				in := intent{}
				smp := []byte(`{"spec":{"template":{"spec":{"containers":[{"name":"nginx","securityContext":{"privileged":true}}]}}}}`)
				for root, objs := range webIntent() {
					for k := range objs {
						in.add(root, k, smp, "")
					}
				}
				return in
			}(),
			want: "the fix makes KM-001 fail",
			root: "base/web",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pl.verify(cur, pl.before, tc.changes, tc.in)
			var ie *invariantError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an invariantError", err)
			}
			if ie.Root != tc.root || !strings.Contains(ie.Msg, tc.want) {
				t.Fatalf("err = %v, want %q in %s", err, tc.want, tc.root)
			}
		})
	}

	t.Run("changes nothing", func(t *testing.T) {
		_, err := pl.verify(cur, pl.before, map[string][]byte{"base/web/deployment.yaml": []byte("# a comment\n" + deployment)}, webIntent())
		if err == nil || !strings.Contains(err.Error(), "changes no rendering") {
			t.Fatalf("err = %v", err)
		}
		_, err = pl.verify(cur, pl.before, map[string][]byte{"base/web/deployment.yaml": []byte(deployment)}, webIntent())
		if err == nil || !strings.Contains(err.Error(), "changes no file") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestWrongEditIsDropped corrupts one planned edit (its patch also sets
// the replica count): the plan must drop it with the reason, not write
// it, and still accept the others.
func TestWrongEditIsDropped(t *testing.T) {
	pl, err := newPlanner(sampleRepo, controls(t, "KM-001", "KM-002", "KM-006", "KM-010"), Options{Fixability: []finding.Fixability{finding.FixAuto, finding.FixReview}})
	if err != nil {
		t.Fatal(err)
	}
	res, cur := pl.start()
	edits := pl.plan(pl.collect(cur), cur, res)
	bad := 0
	for i, e := range edits {
		if e.file == "base/worker/deployment.yaml" {
			for _, c := range e.cands {
				c.fx.StrategicMerge = append([]byte("spec:\n  replicas: 9\n"), c.fx.StrategicMerge[len("spec:\n"):]...)
			}
			bad = i
			break
		}
	}
	if len(edits) < 2 || edits[bad].file != "base/worker/deployment.yaml" {
		t.Fatalf("no edit of the worker base: %d edits", len(edits))
	}
	pl.apply(edits, cur, res)
	if len(res.Dropped) != 1 {
		t.Fatalf("dropped %d, want 1: %+v", len(res.Dropped), res.Dropped)
	}
	d := res.Dropped[0]
	if d.File != "base/worker/deployment.yaml" || d.Placement != PlacementResource ||
		!strings.Contains(d.Reason, "spec.replicas") || !strings.Contains(d.Reason, "Deployment/queue-worker") {
		t.Fatalf("dropped %s %s: %s", d.Placement, d.File, d.Reason)
	}
	if len(res.Fixes) != len(edits)-1 {
		t.Fatalf("%d fixes, want the %d other edits", len(res.Fixes), len(edits)-1)
	}
	for _, f := range res.Files {
		if strings.Contains(string(f.After), "replicas: 9") {
			t.Fatalf("%s: the wrong edit would be written", f.Path)
		}
	}
}
