package cluster

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"
	certutil "k8s.io/client-go/util/cert"
)

// serviceAccountDir is where Kubernetes mounts a pod's service account
// token and the cluster's CA (a variable for tests).
var serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// inClusterConfig is rest.InClusterConfig reading the service account from
// serviceAccountDir: the API server from KUBERNETES_SERVICE_HOST and
// KUBERNETES_SERVICE_PORT, the pod's token (re-read as the kubelet rotates
// it) and the cluster's CA.
func inClusterConfig() (*rest.Config, error) {
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return nil, rest.ErrNotInCluster
	}
	tokenFile := filepath.Join(serviceAccountDir, "token")
	token, err := os.ReadFile(tokenFile)
	if err != nil {
		return nil, err
	}
	if len(token) == 0 {
		return nil, errors.New(tokenFile + " is empty")
	}
	caFile := filepath.Join(serviceAccountDir, "ca.crt")
	if _, err := certutil.NewPool(caFile); err != nil {
		return nil, fmt.Errorf("the cluster's CA: %w", err)
	}
	return &rest.Config{
		Host:            "https://" + net.JoinHostPort(host, port),
		TLSClientConfig: rest.TLSClientConfig{CAFile: caFile},
		BearerToken:     string(token),
		BearerTokenFile: tokenFile,
	}, nil
}
