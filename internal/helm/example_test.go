package helm_test

import (
	"fmt"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/helm"
)

func ExampleRender() {
	objs, err := helm.Renderer{Repo: "../../fixtures/helm", Release: "shop"}.Render("storefront", helm.ValuesFile("storefront/values-prod.yaml"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range objs {
		fmt.Println(o.Source, o.Ref.Kind, o.Ref.Name)
	}
	// Output:
	// storefront/templates/deployment.yaml Deployment shop-storefront
	// storefront/templates/service.yaml Service shop-storefront
}

func ExamplePlan() {
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		fmt.Println(err)
		return
	}
	controls, _ := cat.Select([]string{"KM-002", "KM-010", "KM-020", "KM-029"})
	rel, err := helm.HelmRelease("../../fixtures/helm", "flux/webapp.yaml", 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := helm.PlanRelease(rel, controls, helm.Options{
		Renderer:   helm.Renderer{Repo: "../../fixtures/helm", SkipTests: true},
		Fixability: []finding.Fixability{finding.FixAuto, finding.FixReview},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range res.Fixes {
		fmt.Printf("%s  %s:%d  %s: %s\n", f.ControlID, f.File(), f.Line, f.KeyString(), f.Value)
	}
	for _, m := range res.Manual {
		fmt.Printf("%s  manual: %s\n", m.Finding.ControlID, m.Reason)
	}
	// Output:
	// KM-002  flux/webapp.yaml:37  securityContext.allowPrivilegeEscalation: false
	// KM-010  flux/webapp.yaml:44  podSecurityContext.seccompProfile.type: RuntimeDefault
	// KM-029  flux/webapp.yaml:33  image.pullPolicy: Always
	// KM-020  manual: no values key of the chart or of the common conventions controls spec.template.spec.automountServiceAccountToken
}
