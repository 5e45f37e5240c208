package kubetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
)

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// Decode reads the objects of a YAML (or JSON) stream, skipping empty
// documents.
func Decode(src []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(src), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
}

// ApplyCRDs creates the CustomResourceDefinitions in files (YAML, one or
// more documents each; ones that exist already are left as they are) and
// waits until every one is Established and its resource is served.
func (s *Server) ApplyCRDs(ctx context.Context, files ...string) error {
	c, err := dynamic.NewForConfig(s.Config)
	if err != nil {
		return err
	}
	var crds []*unstructured.Unstructured
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		objs, err := Decode(b)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		for _, o := range objs {
			if o.GetKind() != "CustomResourceDefinition" {
				return fmt.Errorf("%s: %s %s is not a CustomResourceDefinition", f, o.GetKind(), o.GetName())
			}
			delete(o.Object, "status")
			if _, err := c.Resource(crdResource).Create(ctx, o, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("%s: create %s: %w", f, o.GetName(), err)
			}
			crds = append(crds, o)
		}
	}
	for _, o := range crds {
		if err := waitEstablished(ctx, c, o); err != nil {
			return err
		}
	}
	return nil
}

// waitEstablished waits for the CRD's Established condition, then for a
// list of its resource to succeed.
func waitEstablished(ctx context.Context, c dynamic.Interface, crd *unstructured.Unstructured) error {
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	var served []string
	for _, v := range versions {
		if m, ok := v.(map[string]any); ok && m["served"] == true {
			if name, ok := m["name"].(string); ok {
				served = append(served, name)
			}
		}
	}
	var last error
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		got, err := c.Resource(crdResource).Get(ctx, crd.GetName(), metav1.GetOptions{})
		if err != nil {
			last = err
			return false, nil
		}
		conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
		established := false
		for _, cd := range conds {
			if m, ok := cd.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
				established = true
			}
		}
		if !established {
			last = fmt.Errorf("not Established")
			return false, nil
		}
		for _, v := range served {
			if _, err := c.Resource(schema.GroupVersionResource{Group: group, Version: v, Resource: plural}).List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
				last = err
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("CRD %s: %w (%v)", crd.GetName(), err, last)
	}
	return nil
}

// Client creates objects of any kind the server serves, CRDs included,
// finding each kind's resource through discovery.
type Client struct {
	Dynamic dynamic.Interface
	mapper  *restmapper.DeferredDiscoveryRESTMapper
}

// Client returns a Client for the server's administrator.
func (s *Server) Client() (*Client, error) {
	d, err := dynamic.NewForConfig(s.Config)
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(s.Config)
	if err != nil {
		return nil, err
	}
	return &Client{Dynamic: d, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}, nil
}

// Resource returns the resource of a kind, and whether it is namespaced.
func (c *Client) Resource(gvk schema.GroupVersionKind) (schema.GroupVersionResource, bool, error) {
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		c.mapper.Reset() // a CRD applied since the last discovery
		m, err = c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return schema.GroupVersionResource{}, false, err
	}
	return m.Resource, m.Scope.Name() == meta.RESTScopeNameNamespace, nil
}

// Create creates an object and returns it as the server stored it.
func (c *Client) Create(ctx context.Context, u *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	gvr, namespaced, err := c.Resource(u.GroupVersionKind())
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
	}
	ri := c.Dynamic.Resource(gvr)
	var out *unstructured.Unstructured
	if namespaced {
		out, err = ri.Namespace(u.GetNamespace()).Create(ctx, u, metav1.CreateOptions{})
	} else {
		out, err = ri.Create(ctx, u, metav1.CreateOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("create %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	return out, nil
}

// CreateYAML creates every object of a YAML stream, in order, and returns
// them as stored.
func (c *Client) CreateYAML(ctx context.Context, src []byte) ([]*unstructured.Unstructured, error) {
	objs, err := Decode(src)
	if err != nil {
		return nil, err
	}
	out := make([]*unstructured.Unstructured, 0, len(objs))
	for _, o := range objs {
		got, err := c.Create(ctx, o)
		if err != nil {
			return out, err
		}
		out = append(out, got)
	}
	return out, nil
}
