package cluster_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/kmend/kmend/internal/cluster"
	"github.com/kmend/kmend/internal/kubetest"
)

var gvrs = map[string]schema.GroupVersionResource{
	"Namespace":          {Version: "v1", Resource: "namespaces"},
	"ServiceAccount":     {Version: "v1", Resource: "serviceaccounts"},
	"ClusterRole":        {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
	"ClusterRoleBinding": {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"},
	"Deployment":         {Group: "apps", Version: "v1", Resource: "deployments"},
}

func apply(t *testing.T, c dynamic.Interface, src []byte) {
	t.Helper()
	nodes, err := kio.FromBytes(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		u := &unstructured.Unstructured{}
		j, _ := n.MarshalJSON()
		if err := u.UnmarshalJSON(j); err != nil {
			t.Fatal(err)
		}
		gvr, ok := gvrs[u.GetKind()]
		if !ok {
			t.Fatalf("no resource for %s", u.GetKind())
		}
		if _, err := c.Resource(gvr).Namespace(u.GetNamespace()).Create(context.Background(), u, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create %s/%s: %v", u.GetKind(), u.GetName(), err)
		}
	}
}

// TestReaderRBAC applies deploy/rbac.yaml to a real API server and checks
// that its ServiceAccount can take a snapshot, read the reports, run the
// watcher, and write nothing.
func TestReaderRBAC(t *testing.T) {
	srv := kubetest.Start(t)
	admin, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	rbac, err := os.ReadFile("../../deploy/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	apply(t, admin, []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: kmend-system}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"))
	apply(t, admin, rbac)
	deployment := []byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
`)
	apply(t, admin, deployment)

	cs, err := kubernetes.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	exp := int64(3600)
	tok, err := cs.CoreV1().ServiceAccounts("kmend-system").CreateToken(context.Background(), "kmend",
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reader := &rest.Config{Host: srv.Config.Host, BearerToken: tok.Status.Token, TLSClientConfig: srv.Config.TLSClientConfig}

	objs, err := cluster.Snapshot(context.Background(), reader, cluster.SnapshotOptions{})
	if err != nil {
		t.Fatalf("the reader cannot take a snapshot: %v", err)
	}
	if len(objs) != 1 || objs[0].Ref.String() != "Deployment/shop/web" {
		t.Fatalf("snapshot as reader = %+v", objs)
	}
	// The reader reads every report kind (their CRDs applied) and runs
	// the watcher: its informers list and watch every workload kind.
	if err := srv.ApplyCRDs(context.Background(), crdFiles(reportCRDs...)...); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.ReportObjects(context.Background(), reader, cluster.ReportOptions{}); err != nil {
		t.Fatalf("the reader cannot read reports: %v", err)
	}
	w, rec := startWatcher(t, reader, cluster.WatchOptions{})
	if got := rec.settle(t, 1, 300*time.Millisecond); len(got) != 1 || got[0] != "added Deployment/shop/web" || !w.HasSynced() {
		t.Fatalf("the reader's watcher: %q", got)
	}
	rc, err := dynamic.NewForConfig(reader)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	_ = u.UnmarshalJSON([]byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x","namespace":"shop"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}`))
	_, err = rc.Resource(gvrs["Deployment"]).Namespace("shop").Create(context.Background(), u, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("the reader could write: %v", err)
	}
	err = rc.Resource(gvrs["Deployment"]).Namespace("shop").Delete(context.Background(), "web", metav1.DeleteOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("the reader could delete: %v", err)
	}
}
