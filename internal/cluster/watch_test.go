package cluster_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/kmend/kmend/internal/cluster"
	"github.com/kmend/kmend/internal/kubetest"
)

var (
	deployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	replicasets = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}
	pods        = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	namespaces  = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
)

// recorder collects a Watcher's events.
type recorder struct {
	mu     sync.Mutex
	events []cluster.ObjectEvent
}

func (r *recorder) add(e cluster.ObjectEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// take returns the events so far, as "type Kind/ns/name", and forgets them.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, string(e.Type)+" "+e.Ref.String())
	}
	r.events = nil
	return out
}

// settle waits until want events were seen and then no other for quiet,
// and returns them all.
func (r *recorder) settle(t *testing.T, want int, quiet time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r.mu.Lock()
		n := len(r.events)
		r.mu.Unlock()
		if n >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(quiet)
	return r.take()
}

// startWatcher runs a Watcher until the test ends, and waits for its caches.
func startWatcher(t *testing.T, cfg *rest.Config, o cluster.WatchOptions) (*cluster.Watcher, *recorder) {
	t.Helper()
	rec := &recorder{}
	o.OnChange = rec.add
	w, err := cluster.NewWatcher(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for !w.HasSynced() {
		if time.Now().After(deadline) {
			t.Fatal("the watcher's caches did not fill")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return w, rec
}

// deploymentWithChildren creates what a real cluster shows for one
// Deployment: the Deployment (with the last-applied annotation kubectl
// apply writes), its ReplicaSet and two Pods, with the ownerReferences the
// controller-manager would set.
func deploymentWithChildren(t *testing.T, c dynamic.Interface, ns string) (dep, rs *unstructured.Unstructured, pods []*unstructured.Unstructured) {
	t.Helper()
	dep = create(t, c, deployments, fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: %s
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"apiVersion":"apps/v1","kind":"Deployment"}'
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}`+podSpec, ns), nil)
	rs = create(t, c, replicasets, fmt.Sprintf(`apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-5d9c7b6f8, namespace: %s, labels: {app: web, pod-template-hash: 5d9c7b6f8}}
spec:
  selector: {matchLabels: {app: web, pod-template-hash: 5d9c7b6f8}}
  template:
    metadata: {labels: {app: web, pod-template-hash: 5d9c7b6f8}}`+podSpec, ns), dep)
	for _, suffix := range []string{"abcde", "fghij"} {
		pods = append(pods, create(t, c, schema.GroupVersionResource{Version: "v1", Resource: "pods"}, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: web-5d9c7b6f8-%s, namespace: %s, labels: {app: web, pod-template-hash: 5d9c7b6f8}}
spec:
  containers:
    - name: web
      image: nginx:1.27
      securityContext: {allowPrivilegeEscalation: true}`, suffix, ns), rs))
	}
	return dep, rs, pods
}

func newNamespace(t *testing.T, c dynamic.Interface, name string) {
	t.Helper()
	create(t, c, namespaces, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+name+"}\n", nil)
}

// TestWatchReportsTopOwners: the informers see a Deployment, its
// ReplicaSet and its Pods created, updated and deleted; the Watcher reports
// only the Deployment, once per change.
func TestWatchReportsTopOwners(t *testing.T) {
	srv := kubetest.Shared(t)
	c, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	newNamespace(t, c, "watch")
	w, rec := startWatcher(t, srv.Config, cluster.WatchOptions{Namespace: "watch", Cluster: "test"})
	if got := rec.settle(t, 0, 200*time.Millisecond); len(got) != 0 {
		t.Fatalf("events before anything was created: %q", got)
	}

	dep, rs, ps := deploymentWithChildren(t, c, "watch")
	if got := rec.settle(t, 1, 700*time.Millisecond); strings.Join(got, ",") != "added Deployment/watch/web" {
		t.Fatalf("after creating a Deployment, its ReplicaSet and Pods: events %q, want one added for the Deployment", got)
	}

	// The transform dropped managedFields and the last-applied annotation
	// from what the informers keep; the API server has both.
	live, err := c.Resource(deployments).Namespace("watch").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(live.GetManagedFields()) == 0 || live.GetAnnotations()[cluster.LastAppliedAnnotation] == "" {
		t.Fatalf("the API server should keep managedFields and the annotation: %v %v", live.GetManagedFields(), live.GetAnnotations())
	}
	for _, gvr := range []schema.GroupVersionResource{deployments, replicasets, pods} {
		name := map[string]string{"deployments": dep.GetName(), "replicasets": rs.GetName(), "pods": ps[0].GetName()}[gvr.Resource]
		cached, ok := w.Cached(gvr, "watch", name)
		if !ok {
			t.Fatalf("%s %s is not cached", gvr.Resource, name)
		}
		if cached.GetManagedFields() != nil {
			t.Errorf("the cached %s %s keeps managedFields", gvr.Resource, name)
		}
		if _, ok := cached.GetAnnotations()[cluster.LastAppliedAnnotation]; ok {
			t.Errorf("the cached %s %s keeps the last-applied annotation", gvr.Resource, name)
		}
		if _, found, _ := unstructured.NestedFieldNoCopy(cached.Object, "metadata", "managedFields"); found {
			t.Errorf("the cached %s %s has a managedFields key", gvr.Resource, name)
		}
	}

	// A change of a Pod (what the kubelet and controllers do all day) is
	// no change of the Deployment.
	patch := []byte(`{"metadata":{"labels":{"restarted":"yes"}}}`)
	if _, err := c.Resource(pods).Namespace("watch").Patch(ctx, ps[1].GetName(), types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Resource(replicasets).Namespace("watch").Patch(ctx, rs.GetName(), types.MergePatchType, []byte(`{"spec":{"replicas":3}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := rec.settle(t, 0, 700*time.Millisecond); len(got) != 0 {
		t.Fatalf("changes of the ReplicaSet and a Pod were reported: %q", got)
	}

	// The Deployment's own change is one update, however many writes.
	for i, img := range []string{"nginx:1.28", "nginx:1.29"} {
		p := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":"web","image":%q}]}}},"metadata":{"labels":{"try":"%d"}}}`, img, i)
		if _, err := c.Resource(deployments).Namespace("watch").Patch(ctx, "web", types.StrategicMergePatchType, []byte(p), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	got := rec.settle(t, 1, 700*time.Millisecond)
	if strings.Join(got, ",") != "updated Deployment/watch/web" {
		t.Fatalf("after updating the Deployment twice in a burst: events %q, want one update", got)
	}
	if cached, _ := w.Cached(deployments, "watch", "web"); cached == nil || !strings.Contains(fmt.Sprint(cached.Object["spec"]), "nginx:1.29") {
		t.Errorf("the cache does not hold the last update")
	}

	// Deleting it is one delete; its leftovers (no garbage collector runs
	// here) are not reported in its place.
	if err := c.Resource(deployments).Namespace("watch").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := rec.settle(t, 1, 700*time.Millisecond); strings.Join(got, ",") != "deleted Deployment/watch/web" {
		t.Fatalf("after deleting the Deployment: events %q, want one delete", got)
	}
	for _, p := range ps {
		if err := c.Resource(pods).Namespace("watch").Delete(ctx, p.GetName(), metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Resource(replicasets).Namespace("watch").Delete(ctx, rs.GetName(), metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := rec.settle(t, 0, 700*time.Millisecond); len(got) != 0 {
		t.Fatalf("deleting the ReplicaSet and Pods was reported: %q", got)
	}
}

// TestWatchStartsWithExistingObjects: a Watcher started on a namespace
// that already runs a Deployment (with its ReplicaSet and Pods) and a bare
// Pod reports each top owner once, as added, with its object ready to
// check; a resync reports them again as resynced.
func TestWatchStartsWithExistingObjects(t *testing.T) {
	srv := kubetest.Shared(t)
	c, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	newNamespace(t, c, "existing")
	deploymentWithChildren(t, c, "existing")
	create(t, c, pods, `apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: existing}
spec:
  containers: [{name: sh, image: busybox:1.36}]`, nil)

	var mu sync.Mutex
	var checked []string
	rec := &recorder{}
	w, err := cluster.NewWatcher(srv.Config, cluster.WatchOptions{Namespace: "existing", Cluster: "test", Resync: time.Second,
		OnChange: func(e cluster.ObjectEvent) {
			rec.add(e)
			o, err := e.Manifest()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				checked = append(checked, err.Error())
				return
			}
			checked = append(checked, o.Ref.Cluster+":"+o.Ref.String())
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	got := rec.settle(t, 2, 300*time.Millisecond)
	if strings.Join(got, ",") != "added Deployment/existing/web,added Pod/existing/debug" &&
		strings.Join(got, ",") != "added Pod/existing/debug,added Deployment/existing/web" {
		t.Fatalf("events at start: %q, want the Deployment and the bare Pod added once", got)
	}
	got = rec.settle(t, 2, 0)
	for _, e := range got {
		if !strings.HasPrefix(e, "resynced ") {
			t.Fatalf("after a resync period: %q, want resynced events only", got)
		}
	}
	if len(got) < 2 {
		t.Fatalf("after a resync period: %q, want both objects resynced", got)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range checked {
		if !strings.HasPrefix(s, "test:Deployment/existing/web") && !strings.HasPrefix(s, "test:Pod/existing/debug") {
			t.Errorf("event object: %s", s)
		}
	}
}

func TestWatchNeedsOnChange(t *testing.T) {
	if _, err := cluster.NewWatcher(&rest.Config{Host: "https://127.0.0.1:1"}, cluster.WatchOptions{}); err == nil {
		t.Fatal("a Watcher without OnChange was accepted")
	}
}
