package cluster

import (
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kmend/kmend/internal/manifest"
)

// owned is what Snapshot keeps, computed with every object in hand: the
// objects whose controller is not among them.
func owned(all []*unstructured.Unstructured) []string {
	uids := map[types.UID]bool{}
	for _, u := range all {
		uids[u.GetUID()] = true
	}
	var out []string
	for _, u := range all {
		if c := metav1.GetControllerOf(u); c == nil || !uids[c.UID] {
			out = append(out, u.GetKind()+"/"+u.GetName())
		}
	}
	return out
}

func obj(apiVersion, kind, name string, controller *metav1.OwnerReference) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetName(name)
	u.SetUID(types.UID("uid-" + name))
	if controller != nil {
		controller.Controller = new(bool)
		*controller.Controller = true
		u.SetOwnerReferences([]metav1.OwnerReference{*controller})
	}
	return u
}

func ref(apiVersion, kind, name string) *metav1.OwnerReference {
	return &metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: types.UID("uid-" + name)}
}

// TestSnapshotDropsAsRead: reading in Workloads' order and dropping
// controlled objects as they come keeps what the whole list would.
func TestSnapshotDropsAsRead(t *testing.T) {
	byKind := map[string][]*unstructured.Unstructured{
		"Deployment": {obj("apps/v1", "Deployment", "web", nil), obj("apps/v1", "Deployment", "op-made", ref("example.com/v1", "App", "x"))},
		"ReplicaSet": {
			obj("apps/v1", "ReplicaSet", "web-1", ref("apps/v1", "Deployment", "web")),
			obj("apps/v1", "ReplicaSet", "gone-1", ref("apps/v1", "Deployment", "gone")),
			obj("apps/v1", "ReplicaSet", "ro-1", ref("argoproj.io/v1alpha1", "Rollout", "ro")),
		},
		"CronJob": {obj("batch/v1", "CronJob", "backup", nil)},
		"Job":     {obj("batch/v1", "Job", "backup-1", ref("batch/v1", "CronJob", "backup")), obj("batch/v1", "Job", "adhoc", nil)},
		"Pod": {
			obj("v1", "Pod", "web-1-a", ref("apps/v1", "ReplicaSet", "web-1")),
			obj("v1", "Pod", "ro-1-a", ref("apps/v1", "ReplicaSet", "ro-1")),
			obj("v1", "Pod", "backup-1-a", ref("batch/v1", "Job", "backup-1")),
			obj("v1", "Pod", "by-later-pod", ref("v1", "Pod", "zz-parent")), // its controller comes later in the same list
			obj("v1", "Pod", "by-missing-pod", ref("v1", "Pod", "nowhere")),
			obj("v1", "Pod", "zz-parent", nil),
			obj("v1", "Pod", "debug", nil),
		},
	}
	var all []*unstructured.Unstructured
	s := newSnapshot()
	for _, gvr := range Workloads {
		kind := workloadKinds[gvr.Resource]
		for _, u := range byKind[kind] {
			all = append(all, u.DeepCopy())
			if err := s.add(u, "c"); err != nil {
				t.Fatal(err)
			}
		}
		s.done[kindOfResource(gvr)] = true
	}
	objs, err := s.objects("c")
	if err != nil {
		t.Fatal(err)
	}
	got := names(objs)
	want := strings.Join(owned(all), ",")
	if got != want {
		t.Fatalf("kept %s\nwant %s", got, want)
	}
	// The reference agrees with what a person wrote.
	if want != "Deployment/web,Deployment/op-made,ReplicaSet/gone-1,ReplicaSet/ro-1,CronJob/backup,Job/adhoc,Pod/by-missing-pod,Pod/zz-parent,Pod/debug" {
		t.Fatalf("the reference keeps %s", want)
	}
	// Only the Pod whose controller's kind was still being read waited.
	pending := 0
	for _, k := range s.kept {
		if k.pending != nil {
			pending++
		}
	}
	if pending != 2 {
		t.Fatalf("%d objects waited for their controller, want 2", pending)
	}
}

func names(objs []manifest.Object) string {
	var out []string
	for _, o := range objs {
		out = append(out, fmt.Sprintf("%s/%s", o.Ref.Kind, o.Ref.Name))
	}
	return strings.Join(out, ",")
}
