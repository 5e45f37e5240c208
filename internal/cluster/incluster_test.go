package cluster

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kmend/kmend/internal/kubetest"
)

// TestInClusterConfig: inside a pod (KUBERNETES_SERVICE_HOST set, a token
// and the cluster's CA mounted) and without a kubeconfig, Config uses the
// service account and verifies the server's certificate.
func TestInClusterConfig(t *testing.T) {
	srv := kubetest.Shared(t)
	dir := t.TempDir()
	ca, err := os.ReadFile(filepath.Join(srv.CertDir, "apiserver.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), ca, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(kubetest.AdminToken), 0o600); err != nil {
		t.Fatal(err)
	}
	old := serviceAccountDir
	serviceAccountDir = dir
	t.Cleanup(func() { serviceAccountDir = old })
	host, port, _ := strings.Cut(strings.TrimPrefix(srv.Config.Host, "https://"), ":")
	t.Setenv("KUBERNETES_SERVICE_HOST", host)
	t.Setenv("KUBERNETES_SERVICE_PORT", port)
	t.Setenv("KUBECONFIG", "")
	t.Setenv("HOME", t.TempDir())

	cfg, err := Config(ConfigOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Insecure || cfg.CAFile != filepath.Join(dir, "ca.crt") || cfg.UserAgent != "kmend" {
		t.Fatalf("config %+v", cfg)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{}); err != nil {
		t.Fatalf("list as the pod: %v", err)
	}

	// A kubeconfig given on the command line wins over the pod's account.
	kc := srv.Kubeconfig(t)
	cfg, err = Config(ConfigOptions{Kubeconfig: kc})
	if err != nil || cfg.BearerToken != kubetest.AdminToken || cfg.CAFile != "" {
		t.Fatalf("with --kubeconfig: %+v %v", cfg, err)
	}

	// Without a token the pod's config is an error, not a silent fallback.
	os.Remove(filepath.Join(dir, "token"))
	if _, err := Config(ConfigOptions{}); err == nil || !strings.Contains(err.Error(), "in-cluster") {
		t.Fatalf("without a token: %v", err)
	}
}
