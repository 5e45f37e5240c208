package main

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	sigyaml "sigs.k8s.io/yaml"

	"github.com/kmend/kmend/internal/kubetest"
)

// TestScanCluster runs `kmend scan --cluster` against a real API server.
func TestScanCluster(t *testing.T) {
	srv := kubetest.Start(t)
	c, err := dynamic.NewForConfig(srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := sigyaml.Unmarshal([]byte(risky), &u.Object); err != nil {
		t.Fatal(err)
	}
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "shop"}}}
	if _, err := c.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	u.Object["spec"].(map[string]any)["selector"] = map[string]any{"matchLabels": map[string]any{"app": "web"}}
	if _, err := c.Resource(schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}).Namespace("shop").Create(context.Background(), u, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	code, out, errs := kmend(t, "", "scan", "--cluster", "--kubeconfig", srv.Kubeconfig(t), "--context", "kmend-test", "-n", "shop", "--controls", "KM-002", "-o", "json")
	if code != exitFindings || !strings.Contains(out, `"cluster": "kmend-test"`) || !strings.Contains(out, `"name": "web"`) || !strings.Contains(out, `"reason": "risky"`) {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if code, _, errs := kmend(t, "", "scan", "--cluster", "--kubeconfig", srv.Kubeconfig(t), "some/path"); code != exitError || !strings.Contains(errs, "give no PATH") {
		t.Fatalf("--cluster with a path: exit %d %s", code, errs)
	}
}
