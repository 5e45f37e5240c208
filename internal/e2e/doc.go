// Package e2e holds kmend's end-to-end tests against a real API server
// (internal/kubetest): the upstream CRDs of Argo CD, Flux and the report
// formats are applied from fixtures/crds, the GitOps objects and the
// workloads are created as Argo CD, Flux and the controller-manager would
// make them (tracking annotations and labels, ReplicaSets, Jobs and Pods
// with their owner references), the cluster is read with internal/cluster,
// and every object is mapped with internal/sourcemap onto the fixture
// repositories in fixtures/e2e. The upstream tests do the same with
// repositories written by others (fixtures/argocd-example-apps and
// fixtures/flux2-kustomize-helm-example, each cluster on a server of its
// own), and fix those repositories with internal/overlay and internal/helm,
// rendering every kustomization and the chart again to compare them field
// by field. It has no code of its own.
package e2e
