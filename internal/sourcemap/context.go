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
		switch gitOpsKind(n.GetApiVersion(), n.GetKind()) {
		case "Application":
			c.Applications = append(c.Applications, n)
		case "Kustomization":
			c.Kustomizations = append(c.Kustomizations, n)
		case "GitRepository":
			c.GitRepositories = append(c.GitRepositories, n)
		case "HelmRelease":
			c.HelmReleases = append(c.HelmReleases, n)
		}
	}
}

// IsGitOps says whether an object of this apiVersion and kind is one that
// AddGitOps keeps: its whole tree is needed to map other objects.
func IsGitOps(apiVersion, kind string) bool { return gitOpsKind(apiVersion, kind) != "" }

func gitOpsKind(apiVersion, kind string) string {
	group, _, _ := strings.Cut(apiVersion, "/")
	switch {
	case group == "argoproj.io" && kind == "Application",
		group == "kustomize.toolkit.fluxcd.io" && kind == "Kustomization",
		group == "source.toolkit.fluxcd.io" && kind == "GitRepository",
		group == "helm.toolkit.fluxcd.io" && kind == "HelmRelease":
		return kind
	}
	return ""
}
