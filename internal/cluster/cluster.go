package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/pager"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
)

// LastAppliedAnnotation is kubectl's copy of the last applied object.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// Workloads are the resources kmend checks, in the order they are read.
var Workloads = []schema.GroupVersionResource{
	{Group: "apps", Version: "v1", Resource: "deployments"},
	{Group: "apps", Version: "v1", Resource: "statefulsets"},
	{Group: "apps", Version: "v1", Resource: "daemonsets"},
	{Group: "apps", Version: "v1", Resource: "replicasets"},
	{Group: "", Version: "v1", Resource: "replicationcontrollers"},
	{Group: "batch", Version: "v1", Resource: "cronjobs"},
	{Group: "batch", Version: "v1", Resource: "jobs"},
	{Group: "", Version: "v1", Resource: "pods"},
}

// ConfigOptions say how to reach the cluster, as kubectl users expect.
type ConfigOptions struct {
	Kubeconfig string // --kubeconfig; else $KUBECONFIG, ~/.kube/config, then in-cluster
	Context    string // --context
}

// Config builds a client configuration: from the kubeconfig named by
// o.Kubeconfig or $KUBECONFIG, else, inside a pod (KUBERNETES_SERVICE_HOST
// set) and with no context asked for, from the pod's service account, else
// from ~/.kube/config.
func Config(o ConfigOptions) (*rest.Config, error) {
	if o.Kubeconfig == "" && o.Context == "" && os.Getenv("KUBECONFIG") == "" && os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		cfg, err := inClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("cluster config: in-cluster: %w", err)
		}
		cfg.UserAgent = "kmend"
		return cfg, nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if o.Kubeconfig != "" {
		rules.ExplicitPath = o.Kubeconfig
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: o.Context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("cluster config: %w", err)
	}
	cfg.UserAgent = "kmend"
	return cfg, nil
}

// SnapshotOptions select what to read.
type SnapshotOptions struct {
	// Namespace limits the read to one namespace; empty means all.
	Namespace string
	// Cluster names the cluster in findings.
	Cluster string
}

// Snapshot lists every workload once and returns the objects a person
// wrote: objects whose controller is another workload that was read are
// left out (their pod template is the owner's). Lists are read a page at
// a time, as kubectl reads them, and in Workloads' order, controllers
// before what they control: an object whose controller was read is
// dropped as soon as it is seen, so the Pods and ReplicaSets of a large
// cluster are never held.
func Snapshot(ctx context.Context, cfg *rest.Config, o SnapshotOptions) ([]manifest.Object, error) {
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	s := newSnapshot()
	for _, gvr := range Workloads {
		p := pager.New(func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return client.Resource(gvr).Namespace(o.Namespace).List(ctx, opts)
		})
		p.PageSize = snapshotPageSize
		err := p.EachListItem(ctx, metav1.ListOptions{}, func(obj runtime.Object) error {
			u, ok := obj.(*unstructured.Unstructured)
			if !ok {
				return fmt.Errorf("list %s: got a %T", gvr.Resource, obj)
			}
			return s.add(u, o.Cluster)
		})
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", gvr.Resource, err)
		}
		s.done[kindOfResource(gvr)] = true
	}
	return s.objects(o.Cluster)
}

// snapshotPageSize is kubectl's --chunk-size (a variable for tests).
var snapshotPageSize int64 = 500

// snapshot is what Snapshot has read so far.
type snapshot struct {
	uids map[types.UID]bool        // of every object read
	done map[schema.GroupKind]bool // kinds listed in full
	kept []keptObject
}

// keptObject is an object kept, converted; or, while its controller may
// still be read, pending.
type keptObject struct {
	obj     manifest.Object
	pending *unstructured.Unstructured
	owner   types.UID
}

func newSnapshot() *snapshot {
	return &snapshot{uids: map[types.UID]bool{}, done: map[schema.GroupKind]bool{}}
}

func (s *snapshot) add(u *unstructured.Unstructured, clusterName string) error {
	s.uids[u.GetUID()] = true
	c := metav1.GetControllerOf(u)
	if c != nil && s.uids[c.UID] {
		return nil // its controller was read
	}
	Trim(u)
	if c != nil {
		gv, _ := schema.ParseGroupVersion(c.APIVersion)
		if !s.done[schema.GroupKind{Group: gv.Group, Kind: c.Kind}] && isWorkloadKind(gv.Group, c.Kind) {
			// Its controller's kind is read later: decide then.
			s.kept = append(s.kept, keptObject{pending: u, owner: c.UID})
			return nil
		}
	}
	obj, err := Object(u, clusterName)
	if err != nil {
		return err
	}
	s.kept = append(s.kept, keptObject{obj: obj})
	return nil
}

// objects returns what was kept, in the order read.
func (s *snapshot) objects(clusterName string) ([]manifest.Object, error) {
	out := make([]manifest.Object, 0, len(s.kept))
	for _, k := range s.kept {
		if k.pending == nil {
			out = append(out, k.obj)
			continue
		}
		if s.uids[k.owner] {
			continue
		}
		obj, err := Object(k.pending, clusterName)
		if err != nil {
			return nil, err
		}
		out = append(out, obj)
	}
	return out, nil
}

func kindOfResource(gvr schema.GroupVersionResource) schema.GroupKind {
	return schema.GroupKind{Group: gvr.Group, Kind: workloadKinds[gvr.Resource]}
}

var workloadKinds = map[string]string{
	"deployments": "Deployment", "statefulsets": "StatefulSet", "daemonsets": "DaemonSet",
	"replicasets": "ReplicaSet", "replicationcontrollers": "ReplicationController",
	"cronjobs": "CronJob", "jobs": "Job", "pods": "Pod",
}

func isWorkloadKind(group, kind string) bool {
	for _, gvr := range Workloads {
		if gvr.Group == group && workloadKinds[gvr.Resource] == kind {
			return true
		}
	}
	return false
}

// Trim drops what kmend never reads and what makes live objects large:
// managedFields and the last-applied annotation. It is the transform an
// informer uses too.
func Trim(u *unstructured.Unstructured) {
	u.SetManagedFields(nil)
	if a := u.GetAnnotations(); a != nil {
		if _, ok := a[LastAppliedAnnotation]; ok {
			delete(a, LastAppliedAnnotation)
			if len(a) == 0 {
				a = nil
			}
			u.SetAnnotations(a)
		}
	}
}

// Object converts a live object.
func Object(u *unstructured.Unstructured, clusterName string) (manifest.Object, error) {
	b, err := json.Marshal(u.Object)
	if err != nil {
		return manifest.Object{}, err
	}
	n, err := yaml.ConvertJSONToYamlNode(string(b))
	if err != nil {
		return manifest.Object{}, err
	}
	return manifest.Object{
		Node: n,
		Ref: finding.ObjectRef{
			Cluster:    clusterName,
			APIVersion: u.GetAPIVersion(),
			Kind:       u.GetKind(),
			Namespace:  u.GetNamespace(),
			Name:       u.GetName(),
			UID:        string(u.GetUID()),
		},
	}, nil
}

// GitOps are the resources that say where objects come from.
var GitOps = []schema.GroupVersionResource{
	{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"},
	{Group: "kustomize.toolkit.fluxcd.io", Version: "v1", Resource: "kustomizations"},
	{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"},
	{Group: "helm.toolkit.fluxcd.io", Version: "v2", Resource: "helmreleases"},
}

// GitOpsObjects lists Argo CD Applications and Flux Kustomizations,
// GitRepositories and HelmReleases in every namespace. A kind whose CRD is
// not installed is skipped: a cluster without Flux has no Kustomizations.
func GitOpsObjects(ctx context.Context, cfg *rest.Config) ([]manifest.Object, error) {
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	var out []manifest.Object
	for _, gvr := range GitOps {
		list, err := client.Resource(gvr).List(ctx, metav1.ListOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", gvr.Resource, err)
		}
		for i := range list.Items {
			Trim(&list.Items[i])
			o, err := Object(&list.Items[i], "")
			if err != nil {
				return nil, err
			}
			out = append(out, o)
		}
	}
	return out, nil
}
