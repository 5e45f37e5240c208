package cluster_test

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	sigyaml "sigs.k8s.io/yaml"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/cluster"
	"github.com/kmend/kmend/internal/kubetest"
)

func create(t *testing.T, c dynamic.Interface, gvr schema.GroupVersionResource, src string, owner *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := sigyaml.Unmarshal([]byte(src), &u.Object); err != nil {
		t.Fatal(err)
	}
	if owner != nil {
		yes := true
		u.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: owner.GetAPIVersion(), Kind: owner.GetKind(), Name: owner.GetName(), UID: owner.GetUID(), Controller: &yes}})
	}
	out, err := c.Resource(gvr).Namespace(u.GetNamespace()).Create(context.Background(), u, metav1.CreateOptions{FieldManager: "kubectl-client-side-apply"})
	if err != nil {
		t.Fatalf("create %s %s: %v", gvr.Resource, u.GetName(), err)
	}
	return out
}

const podSpec = `
    spec:
      containers:
        - name: web
          image: nginx:1.27
          securityContext: {allowPrivilegeEscalation: true}`

// TestSnapshotWalksOwnerChains creates what a real cluster shows for a
// Deployment (its ReplicaSet and Pod) and a CronJob (its Job and Pod) on a
// real API server, and checks the snapshot keeps the objects people wrote,
// trimmed, and that they are checked like files.
func TestSnapshotWalksOwnerChains(t *testing.T) {
	srv := kubetest.Shared(t)
	c, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	gvr := func(g, v, r string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Group: g, Version: v, Resource: r}
	}
	create(t, c, gvr("", "v1", "namespaces"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n", nil)
	dep := create(t, c, gvr("apps", "v1", "deployments"), `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"big":"json"}'
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}`+podSpec, nil)
	rs := create(t, c, gvr("apps", "v1", "replicasets"), `apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-5d9c7b6f8, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}`+podSpec, dep)
	create(t, c, gvr("", "v1", "pods"), `apiVersion: v1
kind: Pod
metadata: {name: web-5d9c7b6f8-abcde, namespace: shop}
spec:
  containers:
    - name: web
      image: nginx:1.27
      securityContext: {allowPrivilegeEscalation: true}`, rs)
	cj := create(t, c, gvr("batch", "v1", "cronjobs"), `apiVersion: batch/v1
kind: CronJob
metadata: {name: backup, namespace: shop}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: backup, image: busybox:1.36}]`, nil)
	create(t, c, gvr("batch", "v1", "jobs"), `apiVersion: batch/v1
kind: Job
metadata: {name: backup-28000000, namespace: shop}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: backup, image: busybox:1.36}]`, cj)
	create(t, c, gvr("", "v1", "pods"), `apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: shop}
spec:
  containers: [{name: sh, image: busybox:1.36}]`, nil)

	objs, err := cluster.Snapshot(context.Background(), srv.Config, cluster.SnapshotOptions{Namespace: "shop", Cluster: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.Ref.String())
		s := o.Node.MustString()
		if strings.Contains(s, "managedFields") || strings.Contains(s, "last-applied-configuration") {
			t.Errorf("%s was not trimmed:\n%s", o.Ref, s)
		}
		if o.Ref.Cluster != "test" || o.Ref.UID == "" {
			t.Errorf("%s: ref %+v", o.Ref, o.Ref)
		}
	}
	if strings.Join(got, ",") != "Deployment/shop/web,CronJob/shop/backup,Pod/shop/debug" {
		t.Fatalf("snapshot = %v, want the objects people wrote", got)
	}
	// Read a page of one object at a time, the same.
	restore := cluster.SetPageSize(1)
	paged, err := cluster.Snapshot(context.Background(), srv.Config, cluster.SnapshotOptions{Namespace: "shop", Cluster: "test"})
	restore()
	if err != nil {
		t.Fatal(err)
	}
	var gotPaged []string
	for _, o := range paged {
		gotPaged = append(gotPaged, o.Ref.String())
	}
	if strings.Join(gotPaged, ",") != strings.Join(got, ",") {
		t.Fatalf("paged snapshot = %v, want %v", gotPaged, got)
	}
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	ctl, _ := cat.Get("KM-002")
	rs2 := check.Run([]*catalog.Control{ctl}, objs[0], check.Options{})
	if len(rs2) != 1 || rs2[0].Finding.Reason != "risky" || rs2[0].Finding.Path != "spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation" {
		t.Fatalf("live Deployment findings = %+v", rs2)
	}
}
