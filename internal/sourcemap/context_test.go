package sourcemap

import (
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

func TestAddGitOps(t *testing.T) {
	var c Context
	for _, s := range []string{
		"apiVersion: argoproj.io/v1alpha1\nkind: Application\n",
		"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n",
		"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n", // kustomize's own: not Flux
		"apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\n",
		"apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n",
		"apiVersion: apps/v1\nkind: Deployment\n",
	} {
		c.AddGitOps(yaml.MustParse(s))
	}
	if len(c.Applications) != 1 || len(c.Kustomizations) != 1 || len(c.GitRepositories) != 1 || len(c.HelmReleases) != 1 {
		t.Fatalf("context: %d applications, %d kustomizations, %d git repositories, %d releases",
			len(c.Applications), len(c.Kustomizations), len(c.GitRepositories), len(c.HelmReleases))
	}
}
