// Package kubetest starts a real kube-apiserver and etcd for tests. The
// binaries are built from Go modules by hack/kube/build.sh (make kube) and
// cached under .cache/kube/<version>; KMEND_KUBE_ASSETS points elsewhere.
// Nothing is mocked: tests talk to the API server over HTTPS with a token,
// as kmend does in a cluster.
package kubetest
