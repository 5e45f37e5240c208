package score_test

import (
	"testing"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/score"
	"github.com/kmend/kmend/internal/yamledit"
)

const repo = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app.kubernetes.io/name: web}}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          securityContext: {privileged: true}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: LoadBalancer
  selector: {app: web}
---
apiVersion: batch/v1
kind: Job
metadata: {name: batch, namespace: jobs}
spec:
  template:
    spec:
      containers:
        - name: run
          image: busybox:1.36
          securityContext: {allowPrivilegeEscalation: true}
`

func compute(t *testing.T, ids ...string) score.Result {
	t.Helper()
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := cat.Select(ids)
	if err != nil {
		t.Fatal(err)
	}
	f, err := yamledit.Parse("repo.yaml", []byte(repo), yamledit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	set := manifest.FromFiles(f)
	var rs []check.Result
	for _, o := range set.Objects {
		rs = append(rs, check.Run(cs, o, check.Options{})...)
	}
	return score.Compute(set.Objects, cs, rs)
}

func TestScoreWeightsPairs(t *testing.T) {
	// KM-001 (critical, 10) and KM-002 (high, 6) on two workloads: web fails
	// KM-001 and KM-002 (unset), batch fails KM-002: passing weight 10 of 32.
	r := compute(t, "KM-001", "KM-002")
	if r.Overall.Pairs != 4 || r.Overall.Failed != 3 || r.Overall.Objects != 2 {
		t.Fatalf("overall = %+v", r.Overall)
	}
	if r.Overall.Score != 31.3 {
		t.Fatalf("score = %v, want 31.3 (100 × 10/32)", r.Overall.Score)
	}
	if len(r.ByNamespace) != 2 || r.ByNamespace[0].Name != "shop" || r.ByNamespace[0].Score != 0 || r.ByNamespace[1].Score != 62.5 {
		t.Fatalf("by namespace = %+v", r.ByNamespace)
	}
	if r.ByApp[0].Name != "web" {
		t.Fatalf("by app = %+v", r.ByApp)
	}
}

func TestRiskOrderUsesExposure(t *testing.T) {
	r := compute(t, "KM-002")
	// Both fail KM-002 (high, 6); web is privileged? not with only KM-002
	// checked, but it is exposed by a LoadBalancer Service: 6 × 1.5 = 9.
	if len(r.Ranked) != 2 || r.Ranked[0].Finding.Object.Name != "web" || r.Ranked[0].Risk != 9 || r.Ranked[1].Risk != 6 {
		t.Fatalf("ranked = %+v", r.Ranked)
	}
	r = compute(t, "KM-001", "KM-002")
	// web: host access (+1) and exposed (+0.5): KM-001 10 × 2.5 = 25.
	if r.Ranked[0].Finding.ControlID != "KM-001" || r.Ranked[0].Risk != 25 || len(r.Ranked[0].Exposure) != 2 {
		t.Fatalf("ranked[0] = %+v", r.Ranked[0])
	}
}

func TestEmptyScoresFull(t *testing.T) {
	if r := score.Compute(nil, nil, nil); r.Overall.Score != 100 {
		t.Fatalf("empty score = %v", r.Overall.Score)
	}
}
