package cluster

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/kmend/kmend/internal/finding"
)

// ReportResource is a kind of other scanners' report kmend reads.
type ReportResource struct {
	schema.GroupVersionResource
	Namespaced bool
}

// Reports are the report resources read by ReportObjects, in order.
var Reports = []ReportResource{
	{schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "policyreports"}, true},
	{schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "clusterpolicyreports"}, false},
	{schema.GroupVersionResource{Group: "openreports.io", Version: "v1alpha1", Resource: "reports"}, true},
	{schema.GroupVersionResource{Group: "openreports.io", Version: "v1alpha1", Resource: "clusterreports"}, false},
	{schema.GroupVersionResource{Group: "aquasecurity.github.io", Version: "v1alpha1", Resource: "configauditreports"}, true},
	{schema.GroupVersionResource{Group: "aquasecurity.github.io", Version: "v1alpha1", Resource: "clusterconfigauditreports"}, false},
}

// ReportOptions select the reports to read.
type ReportOptions struct {
	// Namespace limits the read to the namespaced reports of one
	// namespace; cluster-scoped reports are then left out. Empty means
	// every report.
	Namespace string
}

// ReportObjects lists PolicyReports and ClusterPolicyReports
// (wgpolicyk8s.io/v1alpha2), openreports.io Reports and ClusterReports, and
// trivy-operator's ConfigAuditReports and ClusterConfigAuditReports,
// trimmed. A kind whose CRD is not installed is skipped: a cluster without
// trivy-operator has no ConfigAuditReports.
func ReportObjects(ctx context.Context, cfg *rest.Config, o ReportOptions) ([]*unstructured.Unstructured, error) {
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	for _, r := range Reports {
		if o.Namespace != "" && !r.Namespaced {
			continue
		}
		ri := client.Resource(r.GroupVersionResource)
		var list *unstructured.UnstructuredList
		if r.Namespaced {
			list, err = ri.Namespace(o.Namespace).List(ctx, metav1.ListOptions{})
		} else {
			list, err = ri.List(ctx, metav1.ListOptions{})
		}
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list %s.%s: %w", r.Resource, r.Group, err)
		}
		for i := range list.Items {
			Trim(&list.Items[i])
			out = append(out, &list.Items[i])
		}
	}
	return out, nil
}

// Owners walks live owner chains with the API (get), remembering what it
// read. The Watcher walks them through its caches instead.
type Owners struct {
	client dynamic.Interface
	cache  map[key]*unstructured.Unstructured
}

// NewOwners returns an Owners reading with cfg.
func NewOwners(cfg *rest.Config) (*Owners, error) {
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Owners{client: client, cache: map[key]*unstructured.Unstructured{}}, nil
}

// Top returns the object people wrote for ref, a workload as a report names
// it: the last workload on its chain of controller owner references
// (ReplicaSet → Deployment, Pod → Job → CronJob), with its API version and
// UID. An owner reference whose object is gone, or whose UID is not the
// live object's, ends the walk. ok is false when ref is not a workload kind
// kmend reads or is not in the cluster: the caller keeps ref as it is.
func (o *Owners) Top(ctx context.Context, ref finding.ObjectRef) (top finding.ObjectRef, ok bool, err error) {
	res := -1
	for i, gvr := range Workloads {
		if kindOf(gvr) == ref.Kind && (ref.APIVersion == "" || groupOfAPIVersion(ref.APIVersion) == gvr.Group) {
			res = i
			break
		}
	}
	if res < 0 {
		return ref, false, nil
	}
	u, err := o.get(ctx, key{res, ref.Namespace, ref.Name})
	if err != nil || u == nil {
		return ref, false, err
	}
	if ref.UID != "" && string(u.GetUID()) != ref.UID {
		return ref, false, nil // the report is about an object that is gone
	}
	for range 8 {
		c := metav1.GetControllerOf(u)
		if c == nil {
			break
		}
		res := ownerResource(c.APIVersion, c.Kind)
		if res < 0 {
			break
		}
		owner, err := o.get(ctx, key{res, u.GetNamespace(), c.Name})
		if err != nil {
			return ref, false, err
		}
		if owner == nil || owner.GetUID() != c.UID {
			break
		}
		u = owner
	}
	return finding.ObjectRef{Cluster: ref.Cluster, APIVersion: u.GetAPIVersion(), Kind: u.GetKind(),
		Namespace: u.GetNamespace(), Name: u.GetName(), UID: string(u.GetUID())}, true, nil
}

// get reads an object, nil when it does not exist.
func (o *Owners) get(ctx context.Context, k key) (*unstructured.Unstructured, error) {
	if u, ok := o.cache[k]; ok {
		return u, nil
	}
	gvr := Workloads[k.res]
	u, err := o.client.Resource(gvr).Namespace(k.namespace).Get(ctx, k.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		o.cache[k] = nil
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get %s %s/%s: %w", gvr.Resource, k.namespace, k.name, err)
	}
	Trim(u)
	o.cache[k] = u
	return u, nil
}

func groupOfAPIVersion(apiVersion string) string {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return ""
	}
	return gv.Group
}
