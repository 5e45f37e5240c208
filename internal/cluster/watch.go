package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
)

// EventType says what happened to an object a person wrote.
type EventType string

// Event types.
const (
	// Added: the object was seen for the first time (at start, every
	// object the informers list is Added once).
	Added EventType = "added"
	// Updated: the object itself changed (a new resourceVersion). Changes
	// of what a controller made from it (its ReplicaSets, Jobs, Pods) are
	// not reported: they change nothing kmend checks.
	Updated EventType = "updated"
	// Deleted: the object is gone.
	Deleted EventType = "deleted"
	// Resynced: the informers' periodic resync (WatchOptions.Resync)
	// delivered the object again, unchanged.
	Resynced EventType = "resynced"
)

// ObjectEvent is a change of a top owner: a workload no other workload
// controls (a Deployment, a CronJob, a bare Pod), never the ReplicaSets,
// Jobs and Pods controllers generate from it.
type ObjectEvent struct {
	Type EventType
	Ref  finding.ObjectRef
	// Object is the object as cached (trimmed: no managedFields, no
	// last-applied annotation); nil for Deleted. It is a copy: the
	// receiver may keep and modify it.
	Object *unstructured.Unstructured
}

// Manifest converts the event's object for the checks.
func (e ObjectEvent) Manifest() (manifest.Object, error) {
	if e.Object == nil {
		return manifest.Object{}, fmt.Errorf("%s: %s has no object", e.Ref, e.Type)
	}
	return Object(e.Object, e.Ref.Cluster)
}

// WatchOptions configure a Watcher.
type WatchOptions struct {
	// Namespace limits the watch to one namespace; empty means all.
	Namespace string
	// Resync is the informers' resync period: every object is delivered
	// again (as Resynced) this often. Zero disables it.
	Resync time.Duration
	// OnChange is called for every event, from one goroutine, in the order
	// the events were processed. It must not block for long: events that
	// arrive meanwhile wait in the queue (bursts for one object are merged).
	OnChange func(ObjectEvent)
	// Cluster names the cluster in the events' Refs.
	Cluster string
	// Settle is how long an object's key waits in the queue before it is
	// processed, so that a burst (a Deployment, its ReplicaSet and its Pods
	// created together; a rollout) becomes one event. Default 100ms;
	// negative for none.
	Settle time.Duration
}

// key names an object in the informers: the index of its resource in
// Workloads, its namespace and name.
type key struct {
	res       int
	namespace string
	name      string
}

// seen is what the Watcher last reported of an object.
type seen struct {
	ref finding.ObjectRef
	uid string
	rv  string
}

// Watcher follows every workload kind of Workloads with informers and
// reports changes of the objects people wrote. Owner chains are walked
// through the informers' caches, never with API calls.
type Watcher struct {
	opts      WatchOptions
	factory   dynamicinformer.DynamicSharedInformerFactory
	informers []cache.SharedIndexInformer
	queue     workqueue.TypedRateLimitingInterface[key]

	mu      sync.Mutex
	known   map[key]seen
	resync  map[key]bool
	started bool
}

// Watch follows the cluster until ctx ends, calling o.OnChange for every
// event. It returns an error if the caches cannot be filled, and nil when
// ctx ends.
func Watch(ctx context.Context, cfg *rest.Config, o WatchOptions) error {
	w, err := NewWatcher(cfg, o)
	if err != nil {
		return err
	}
	return w.Run(ctx)
}

// NewWatcher sets up the informers; Run starts them.
func NewWatcher(cfg *rest.Config, o WatchOptions) (*Watcher, error) {
	if o.OnChange == nil {
		return nil, errors.New("watch: OnChange is required")
	}
	if o.Settle == 0 {
		o.Settle = 100 * time.Millisecond
	}
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	w := &Watcher{
		opts:    o,
		factory: dynamicinformer.NewFilteredDynamicSharedInformerFactory(client, o.Resync, o.Namespace, nil),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[key](),
			workqueue.TypedRateLimitingQueueConfig[key]{Name: "kmend-watch"}),
		known:  map[key]seen{},
		resync: map[key]bool{},
	}
	for i, gvr := range Workloads {
		inf := w.factory.ForResource(gvr).Informer()
		if err := inf.SetTransform(transform); err != nil {
			return nil, fmt.Errorf("watch %s: %w", gvr.Resource, err)
		}
		if _, err := inf.AddEventHandler(w.handler(i)); err != nil {
			return nil, fmt.Errorf("watch %s: %w", gvr.Resource, err)
		}
		w.informers = append(w.informers, inf)
	}
	return w, nil
}

// transform trims objects before the informers cache them: managedFields
// and the last-applied annotation are most of a live object's size.
func transform(obj any) (any, error) {
	switch o := obj.(type) {
	case *unstructured.Unstructured:
		Trim(o)
	case cache.DeletedFinalStateUnknown:
		if u, ok := o.Obj.(*unstructured.Unstructured); ok {
			Trim(u)
		}
	}
	return obj, nil
}

// Run starts the informers, waits until their caches are filled, and
// reports events until ctx ends. A Watcher runs once.
func (w *Watcher) Run(ctx context.Context) error {
	w.mu.Lock()
	if w.started {
		w.mu.Unlock()
		return errors.New("watch: the Watcher is running already")
	}
	w.started = true
	w.mu.Unlock()

	defer w.factory.Shutdown()
	defer w.queue.ShutDown()
	w.factory.Start(ctx.Done())
	syncs := make([]cache.InformerSynced, len(w.informers))
	for i, inf := range w.informers {
		syncs[i] = inf.HasSynced
	}
	if !cache.WaitForCacheSync(ctx.Done(), syncs...) {
		if ctx.Err() != nil {
			return nil
		}
		return errors.New("watch: the informers' caches did not fill")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for w.next() {
		}
	}()
	<-ctx.Done()
	w.queue.ShutDown()
	<-done
	return nil
}

// HasSynced reports whether every informer has listed its resource once.
func (w *Watcher) HasSynced() bool {
	for _, inf := range w.informers {
		if !inf.HasSynced() {
			return false
		}
	}
	return true
}

// Cached returns an object from the informers' cache (as trimmed by the
// transform; do not modify it).
func (w *Watcher) Cached(gvr schema.GroupVersionResource, namespace, name string) (*unstructured.Unstructured, bool) {
	i := resourceIndex(gvr)
	if i < 0 {
		return nil, false
	}
	return w.get(key{i, namespace, name})
}

func resourceIndex(gvr schema.GroupVersionResource) int {
	for i, g := range Workloads {
		if g == gvr {
			return i
		}
	}
	return -1
}

func (w *Watcher) get(k key) (*unstructured.Unstructured, bool) {
	id := k.name
	if k.namespace != "" {
		id = k.namespace + "/" + k.name
	}
	obj, ok, err := w.informers[k.res].GetIndexer().GetByKey(id)
	if err != nil || !ok {
		return nil, false
	}
	u, ok := obj.(*unstructured.Unstructured)
	return u, ok
}

// handler enqueues the top owner of every object an informer delivers.
func (w *Watcher) handler(res int) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { w.enqueue(res, obj, false) },
		UpdateFunc: func(old, obj any) {
			o, _ := old.(*unstructured.Unstructured)
			n, _ := obj.(*unstructured.Unstructured)
			resync := o != nil && n != nil && o.GetResourceVersion() == n.GetResourceVersion()
			w.enqueue(res, obj, resync)
		},
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			w.enqueue(res, obj, false)
		},
	}
}

func (w *Watcher) enqueue(res int, obj any, resync bool) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	self := key{res, u.GetNamespace(), u.GetName()}
	top := w.top(self, u)
	if resync {
		if top != self {
			return // a resync of a generated object says nothing new
		}
		w.mu.Lock()
		w.resync[top] = true
		w.mu.Unlock()
	}
	if w.opts.Settle > 0 {
		w.queue.AddAfter(top, w.opts.Settle)
	} else {
		w.queue.Add(top)
	}
}

// top walks the controller owner references of u through the caches and
// returns the key of the last workload on the chain. An owner that is not
// cached (yet: informers fill independently) still ends the walk: its own
// event will report it.
func (w *Watcher) top(k key, u *unstructured.Unstructured) key {
	for range 8 { // Pod → ReplicaSet → Deployment; Pod → Job → CronJob
		c := metav1.GetControllerOf(u)
		if c == nil {
			return k
		}
		res := ownerResource(c.APIVersion, c.Kind)
		if res < 0 {
			return k // owned by a kind kmend does not read: u is the top
		}
		k = key{res, u.GetNamespace(), c.Name}
		owner, ok := w.get(k)
		if !ok || owner.GetUID() != c.UID {
			return k
		}
		u = owner
	}
	return k
}

// controlled reports whether a workload kind controls u.
func controlled(u *unstructured.Unstructured) bool {
	c := metav1.GetControllerOf(u)
	return c != nil && ownerResource(c.APIVersion, c.Kind) >= 0
}

// ownerResource returns the index in Workloads of an owner reference's
// kind, or -1.
func ownerResource(apiVersion, kind string) int {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return -1
	}
	for i, gvr := range Workloads {
		if gvr.Group == gv.Group && kindOf(gvr) == kind {
			return i
		}
	}
	return -1
}

// kindOf returns the kind of a workload resource.
func kindOf(gvr schema.GroupVersionResource) string {
	switch gvr.Resource {
	case "deployments":
		return "Deployment"
	case "statefulsets":
		return "StatefulSet"
	case "daemonsets":
		return "DaemonSet"
	case "replicasets":
		return "ReplicaSet"
	case "replicationcontrollers":
		return "ReplicationController"
	case "cronjobs":
		return "CronJob"
	case "jobs":
		return "Job"
	case "pods":
		return "Pod"
	}
	return strings.TrimSuffix(gvr.Resource, "s")
}

// next processes one key: the object's state in the cache against what was
// last reported.
func (w *Watcher) next() bool {
	k, shutdown := w.queue.Get()
	if shutdown {
		return false
	}
	defer w.queue.Done(k)
	w.process(k)
	w.queue.Forget(k)
	return true
}

func (w *Watcher) process(k key) {
	u, exists := w.get(k)
	w.mu.Lock()
	prev, known := w.known[k]
	resync := w.resync[k]
	delete(w.resync, k)
	var ev ObjectEvent
	switch {
	case exists && controlled(u):
		// Adopted by a workload since it was enqueued: its owner reports.
		if known {
			delete(w.known, k)
		}
		w.mu.Unlock()
		return
	case exists:
		s := seen{ref: w.ref(u), uid: string(u.GetUID()), rv: u.GetResourceVersion()}
		switch {
		case !known || prev.uid != s.uid:
			ev.Type = Added
		case prev.rv != s.rv:
			ev.Type = Updated
		case resync:
			ev.Type = Resynced
		default:
			w.mu.Unlock()
			return // a change below it: nothing kmend reads changed
		}
		w.known[k] = s
		ev.Ref, ev.Object = s.ref, u.DeepCopy()
	case known:
		delete(w.known, k)
		ev.Type, ev.Ref = Deleted, prev.ref
	default:
		w.mu.Unlock()
		return
	}
	w.mu.Unlock()
	w.opts.OnChange(ev)
}

func (w *Watcher) ref(u *unstructured.Unstructured) finding.ObjectRef {
	return finding.ObjectRef{
		Cluster:    w.opts.Cluster,
		APIVersion: u.GetAPIVersion(),
		Kind:       u.GetKind(),
		Namespace:  u.GetNamespace(),
		Name:       u.GetName(),
		UID:        string(u.GetUID()),
	}
}
