package sourcemap

import (
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// AddGitOps adds the objects Argo CD and Flux read to the context: Argo CD
// Applications and Flux Kustomizations, GitRepositories and HelmReleases,
// told apart by API group and kind; anything else is ignored.
func (c *Context) AddGitOps(nodes ...*yaml.RNode) {
	for _, n := range nodes {
		group, _, _ := strings.Cut(n.GetApiVersion(), "/")
		switch kind := n.GetKind(); {
		case group == "argoproj.io" && kind == "Application":
			c.Applications = append(c.Applications, n)
		case group == "kustomize.toolkit.fluxcd.io" && kind == "Kustomization":
			c.Kustomizations = append(c.Kustomizations, n)
		case group == "source.toolkit.fluxcd.io" && kind == "GitRepository":
			c.GitRepositories = append(c.GitRepositories, n)
		case group == "helm.toolkit.fluxcd.io" && kind == "HelmRelease":
			c.HelmReleases = append(c.HelmReleases, n)
		}
	}
}
