package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
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
// left out (their pod template is the owner's).
func Snapshot(ctx context.Context, cfg *rest.Config, o SnapshotOptions) ([]manifest.Object, error) {
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	var all []*unstructured.Unstructured
	for _, gvr := range Workloads {
		list, err := client.Resource(gvr).Namespace(o.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", gvr.Resource, err)
		}
		for i := range list.Items {
			u := &list.Items[i]
			Trim(u)
			all = append(all, u)
		}
	}
	return Owned(all, o.Cluster)
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

// Owned keeps the objects that no other object in the list controls, and
// converts them.
func Owned(all []*unstructured.Unstructured, clusterName string) ([]manifest.Object, error) {
	byUID := map[string]bool{}
	for _, u := range all {
		byUID[string(u.GetUID())] = true
	}
	var out []manifest.Object
	for _, u := range all {
		if c := metav1.GetControllerOf(u); c != nil && byUID[string(c.UID)] {
			continue
		}
		obj, err := Object(u, clusterName)
		if err != nil {
			return nil, err
		}
		out = append(out, obj)
	}
	return out, nil
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
