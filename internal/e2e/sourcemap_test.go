package e2e

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kmend/kmend/internal/cluster"
	"github.com/kmend/kmend/internal/kubetest"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/sourcemap"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

// The fixture repositories and the URLs Argo CD and Flux know them by.
const (
	plainURL     = "https://github.com/kmend-e2e/plain"
	gitopsURL    = "https://github.com/kmend-e2e/gitops"
	kustomizeURL = "https://github.com/kmend-e2e/kustomize"
	fleetURL     = "https://github.com/kmend-e2e/fleet"
	vendorURL    = "https://github.com/vendor-org/addons" // not checked out
)

func fixtures(p ...string) string {
	return filepath.Join(append([]string{"..", "..", "fixtures"}, p...)...)
}

// crds are the upstream CRDs kmend reads (fixtures/crds/README.md).
var crds = []string{
	"argoproj.io_applications.yaml",
	"kustomize.toolkit.fluxcd.io_kustomizations.yaml",
	"source.toolkit.fluxcd.io_gitrepositories.yaml",
	"helm.toolkit.fluxcd.io_helmreleases.yaml",
	"wgpolicyk8s.io_policyreports.yaml",
	"wgpolicyk8s.io_clusterpolicyreports.yaml",
	"openreports.io_install.yaml",
	"aquasecurity.github.io_configauditreports.yaml",
}

// env creates objects on the test server as the cluster's controllers
// would show them.
type env struct {
	t  *testing.T
	kc *kubetest.Client
}

func (e *env) create(u *unstructured.Unstructured) *unstructured.Unstructured {
	e.t.Helper()
	out, err := e.kc.Create(context.Background(), u)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// decode reads the objects of a YAML stream.
func (e *env) decode(src []byte) []*unstructured.Unstructured {
	e.t.Helper()
	objs, err := kubetest.Decode(src)
	if err != nil {
		e.t.Fatal(err)
	}
	return objs
}

// fromFile reads document doc of a fixture file.
func (e *env) fromFile(doc int, p ...string) *unstructured.Unstructured {
	e.t.Helper()
	b, err := os.ReadFile(fixtures(p...))
	if err != nil {
		e.t.Fatal(err)
	}
	objs := e.decode(b)
	if doc >= len(objs) {
		e.t.Fatalf("%s has %d documents", filepath.Join(p...), len(objs))
	}
	return objs[doc]
}

func (e *env) one(src string) *unstructured.Unstructured {
	e.t.Helper()
	objs := e.decode([]byte(src))
	if len(objs) != 1 {
		e.t.Fatalf("%d objects in %s", len(objs), src)
	}
	return objs[0]
}

// meta sets annotations and labels (key=value, "a:" for an annotation,
// "l:" for a label).
func meta(u *unstructured.Unstructured, kv ...string) *unstructured.Unstructured {
	a, l := u.GetAnnotations(), u.GetLabels()
	if a == nil {
		a = map[string]string{}
	}
	if l == nil {
		l = map[string]string{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		k, v := kv[i], kv[i+1]
		switch {
		case strings.HasPrefix(k, "a:"):
			a[k[2:]] = v
		case strings.HasPrefix(k, "l:"):
			l[k[2:]] = v
		}
	}
	if len(a) > 0 {
		u.SetAnnotations(a)
	}
	if len(l) > 0 {
		u.SetLabels(l)
	}
	return u
}

func inNamespace(u *unstructured.Unstructured, ns string) *unstructured.Unstructured {
	if u.GetNamespace() == "" {
		u.SetNamespace(ns)
	}
	return u
}

func controllerRef(owner *unstructured.Unstructured) []metav1.OwnerReference {
	yes := true
	return []metav1.OwnerReference{{APIVersion: owner.GetAPIVersion(), Kind: owner.GetKind(), Name: owner.GetName(),
		UID: owner.GetUID(), Controller: &yes, BlockOwnerDeletion: &yes}}
}

// podFrom makes the Pod a controller creates from a pod template.
func (e *env) podFrom(owner *unstructured.Unstructured, tmplPath []string, name string, extraLabels map[string]string) *unstructured.Unstructured {
	e.t.Helper()
	tmpl, _, err := unstructured.NestedMap(owner.Object, tmplPath...)
	if err != nil {
		e.t.Fatal(err)
	}
	pod := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Pod", "spec": tmpl["spec"]}}
	pod.SetName(name)
	pod.SetNamespace(owner.GetNamespace())
	labels, _, _ := unstructured.NestedStringMap(tmpl, "metadata", "labels")
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, extraLabels)
	pod.SetLabels(labels)
	pod.SetOwnerReferences(controllerRef(owner))
	return e.create(pod)
}

// deployment creates a Deployment with the ReplicaSet and Pod the
// deployment controller would make: the ReplicaSet carries the
// Deployment's annotations (but kubectl's last-applied one) and the
// pod-template-hash, the Pod the template's labels.
func (e *env) deployment(u *unstructured.Unstructured) *unstructured.Unstructured {
	e.t.Helper()
	dep := e.create(u)
	const hash = "6d4cf56db6"
	rs := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "ReplicaSet"}}
	rs.SetName(dep.GetName() + "-" + hash)
	rs.SetNamespace(dep.GetNamespace())
	ann := map[string]string{"deployment.kubernetes.io/revision": "1"}
	for k, v := range dep.GetAnnotations() {
		if k != cluster.LastAppliedAnnotation {
			ann[k] = v
		}
	}
	rs.SetAnnotations(ann)
	tmpl, _, _ := unstructured.NestedMap(dep.Object, "spec", "template")
	labels, _, _ := unstructured.NestedStringMap(tmpl, "metadata", "labels")
	labels["pod-template-hash"] = hash
	rs.SetLabels(labels)
	_ = unstructured.SetNestedStringMap(tmpl, labels, "metadata", "labels")
	sel, _, _ := unstructured.NestedStringMap(dep.Object, "spec", "selector", "matchLabels")
	sel["pod-template-hash"] = hash
	_ = unstructured.SetNestedField(rs.Object, map[string]any{"replicas": int64(1),
		"selector": map[string]any{"matchLabels": toAny(sel)}, "template": tmpl}, "spec")
	rs.SetOwnerReferences(controllerRef(dep))
	rs = e.create(rs)
	e.podFrom(rs, []string{"spec", "template"}, rs.GetName()+"-x7k2p", nil)
	return dep
}

// cronJob creates a CronJob with the Job and Pod the cronjob and job
// controllers would make.
func (e *env) cronJob(u *unstructured.Unstructured) *unstructured.Unstructured {
	e.t.Helper()
	cj := e.create(u)
	jt, _, _ := unstructured.NestedMap(cj.Object, "spec", "jobTemplate", "spec")
	job := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "batch/v1", "kind": "Job", "spec": jt}}
	job.SetName(cj.GetName() + "-29000000")
	job.SetNamespace(cj.GetNamespace())
	job.SetOwnerReferences(controllerRef(cj))
	job = e.create(job)
	e.podFrom(job, []string{"spec", "template"}, job.GetName()+"-q2w8r", map[string]string{"job-name": job.GetName()})
	return cj
}

func toAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func tracking(app, group, kind, ns, name string) []string {
	return []string{"a:argocd.argoproj.io/tracking-id", fmt.Sprintf("%s:%s/%s:%s/%s", app, group, kind, ns, name)}
}

func fluxKS(name string) []string {
	return []string{"l:kustomize.toolkit.fluxcd.io/name", name, "l:kustomize.toolkit.fluxcd.io/namespace", "flux-system"}
}

// populate creates what the cluster runs: Argo CD's Applications (the root
// applied by hand, its children synced by it), Flux's objects, and the
// workloads each of them deployed, plus the hostile and broken cases.
func populate(t *testing.T, e *env) {
	for _, ns := range []string{"argocd", "flux-system", "plain-shop", "shop", "platform", "shop-dev", "shop-staging", "shop-prod",
		"vendor", "podinfo", "team-a"} {
		e.create(e.one("apiVersion: v1\nkind: Namespace\nmetadata: {name: " + ns + "}\n"))
	}

	// A plain repository, applied with kubectl: no tracking metadata
	// (search), except the API's own source.kmend.dev annotations.
	e.deployment(meta(e.fromFile(0, "e2e", "plain", "apps", "web.yaml"), "a:"+cluster.LastAppliedAnnotation, `{"kind":"Deployment"}`))
	e.deployment(e.fromFile(1, "e2e", "plain", "apps", "api.yaml"))
	e.cronJob(e.fromFile(0, "e2e", "plain", "apps", "backup.yaml"))
	e.deployment(e.fromFile(0, "e2e", "plain", "dup", "twin-a.yaml")) // defined twice: ambiguous
	e.deployment(e.one(`apiVersion: apps/v1
kind: Deployment
metadata: {name: ghost, namespace: plain-shop}
spec:
  selector: {matchLabels: {app: ghost}}
  template:
    metadata: {labels: {app: ghost}}
    spec: {containers: [{name: ghost, image: busybox:1.36}]}
`)) // defined nowhere

	// Argo CD: the root Application, then the children it synced (each
	// with the root's tracking-id), then what each child deployed.
	e.create(e.fromFile(0, "e2e", "gitops", "bootstrap", "root.yaml"))
	for _, f := range []struct {
		file string
		docs int
	}{{"shop.yaml", 1}, {"platform.yaml", 1}, {"storefront.yaml", 3}, {"vendor.yaml", 1}} {
		for d := range f.docs {
			app := e.fromFile(d, "e2e", "gitops", "apps", f.file)
			e.create(meta(app, tracking("root", "argoproj.io", "Application", "argocd", app.GetName())...))
		}
	}
	cart := inNamespace(e.fromFile(0, "e2e", "gitops", "workloads", "shop", "cart.yaml"), "shop")
	e.deployment(meta(cart, tracking("shop", "apps", "Deployment", "shop", "cart")...))
	// Rendered by Helm from charts/webapp with release name platform.
	e.deployment(meta(e.one(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: platform-webapp
  namespace: platform
  labels: {app.kubernetes.io/name: webapp, app.kubernetes.io/instance: platform, app.kubernetes.io/managed-by: Helm, helm.sh/chart: webapp-0.1.0}
spec:
  replicas: 2
  selector: {matchLabels: {app.kubernetes.io/name: webapp, app.kubernetes.io/instance: platform}}
  template:
    metadata: {labels: {app.kubernetes.io/name: webapp, app.kubernetes.io/instance: platform}}
    spec:
      containers:
        - name: web
          image: registry.example.com/platform/web:4.2.0
          securityContext: {allowPrivilegeEscalation: true}
`), tracking("platform", "apps", "Deployment", "platform", "platform-webapp")...))
	// Built by kustomize from the three overlays of the storefront: names
	// and namespaces changed by the overlays; prod's build writes origin
	// annotations (buildMetadata: [originAnnotations]).
	base := func(name, ns string) *unstructured.Unstructured {
		u := e.fromFile(0, "e2e", "kustomize", "base", "web", "deployment.yaml")
		u.SetName(name)
		u.SetNamespace(ns)
		return u
	}
	e.deployment(meta(base("dev-web", "shop-dev"), tracking("storefront-dev", "apps", "Deployment", "shop-dev", "dev-web")...))
	// Argo CD 2's label tracking: only the instance label.
	e.deployment(meta(base("web-staging", "shop-staging"), "l:app.kubernetes.io/instance", "storefront-staging"))
	e.deployment(meta(base("prod-web", "shop-prod"), append(tracking("storefront-prod", "apps", "Deployment", "shop-prod", "prod-web"),
		"a:config.kubernetes.io/origin", "path: ../../base/web/deployment.yaml\n")...))
	e.deployment(meta(e.one(`apiVersion: apps/v1
kind: Deployment
metadata: {name: addon-operator, namespace: vendor}
spec:
  selector: {matchLabels: {app: addon-operator}}
  template:
    metadata: {labels: {app: addon-operator}}
    spec: {containers: [{name: operator, image: ghcr.io/vendor-org/addon-operator:3.1.0}]}
`), tracking("vendor", "apps", "Deployment", "vendor", "addon-operator")...))

	// Flux: the objects flux bootstrap made (labelled by the flux-system
	// Kustomization that applies them), then what the apps Kustomization
	// and the HelmRelease deployed.
	e.create(meta(e.fromFile(0, "e2e", "fleet", "clusters", "prod", "flux-system", "gotk-sync.yaml"), fluxKS("flux-system")...))
	e.create(meta(e.fromFile(1, "e2e", "fleet", "clusters", "prod", "flux-system", "gotk-sync.yaml"), fluxKS("flux-system")...))
	e.create(meta(e.fromFile(0, "e2e", "fleet", "clusters", "prod", "apps.yaml"), fluxKS("flux-system")...))
	e.create(meta(e.fromFile(1, "e2e", "fleet", "apps", "prod", "webapp", "release.yaml"), fluxKS("apps")...))
	e.deployment(meta(e.fromFile(1, "e2e", "fleet", "apps", "prod", "podinfo", "deployment.yaml"), fluxKS("apps")...))
	e.deployment(meta(e.one(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: webapp
  namespace: team-a
  labels: {app.kubernetes.io/name: webapp, app.kubernetes.io/instance: webapp, app.kubernetes.io/managed-by: Helm, helm.sh/chart: webapp-0.1.0}
spec:
  replicas: 2
  selector: {matchLabels: {app.kubernetes.io/name: webapp, app.kubernetes.io/instance: webapp}}
  template:
    metadata: {labels: {app.kubernetes.io/name: webapp, app.kubernetes.io/instance: webapp}}
    spec:
      containers:
        - name: web
          image: registry.example.com/web:4.2.0
          securityContext: {allowPrivilegeEscalation: true}
`), "l:helm.toolkit.fluxcd.io/name", "webapp", "l:helm.toolkit.fluxcd.io/namespace", "team-a"))

	// Hostile metadata: a tracking-id naming another object; an
	// Application and a Kustomization whose paths leave the repository.
	e.deployment(meta(e.one(`apiVersion: apps/v1
kind: Deployment
metadata: {name: impostor, namespace: shop}
spec:
  selector: {matchLabels: {app: impostor}}
  template:
    metadata: {labels: {app: impostor}}
    spec: {containers: [{name: x, image: busybox:1.36}]}
`), tracking("shop", "apps", "Deployment", "shop", "cart")...))
	e.create(e.one(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: escape, namespace: argocd}
spec:
  project: default
  source: {repoURL: "https://github.com/kmend-e2e/gitops", targetRevision: main, path: ../../../etc}
  destination: {server: "https://kubernetes.default.svc", namespace: shop}
`))
	e.deployment(meta(e.one(`apiVersion: apps/v1
kind: Deployment
metadata: {name: escapee, namespace: shop}
spec:
  selector: {matchLabels: {app: escapee}}
  template:
    metadata: {labels: {app: escapee}}
    spec: {containers: [{name: x, image: busybox:1.36}]}
`), tracking("escape", "apps", "Deployment", "shop", "escapee")...))
	e.create(e.one(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: evil, namespace: flux-system}
spec:
  interval: 10m
  path: ./apps/../../outside
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
`))
	e.deployment(meta(e.one(`apiVersion: apps/v1
kind: Deployment
metadata: {name: evil, namespace: podinfo}
spec:
  selector: {matchLabels: {app: evil}}
  template:
    metadata: {labels: {app: evil}}
    spec: {containers: [{name: x, image: busybox:1.36}]}
`), fluxKS("evil")...))
}

// want is where an object must map to.
type want struct {
	loc    *sourcemap.Location // nil: not located; Detail is checked by detail
	err    error               // wrapped by Result.Err when loc is nil
	cands  []string            // candidates, as repo@ref//file#doc:line
	detail []string            // substrings of the Detail or of the error
}

func loc(repo, ref, path, file string, doc, line int, kind sourcemap.SourceKind, via sourcemap.Via, conf sourcemap.Confidence) *sourcemap.Location {
	return &sourcemap.Location{Repo: repo, Ref: ref, Path: path, File: file, Document: doc, Line: line, Kind: kind, Via: via, Confidence: conf}
}

// expected is every object the snapshot and the GitOps listing hold, and
// where each is defined.
func expected() map[string]want {
	const (
		plain  = sourcemap.KindPlain
		kust   = sourcemap.KindKustomize
		fluxKS = sourcemap.KindFluxKustomization
		argo   = sourcemap.ViaArgoCD
		flux   = sourcemap.ViaFlux
		search = sourcemap.ViaSearch
		high   = sourcemap.ConfidenceHigh
		medium = sourcemap.ConfidenceMedium
		low    = sourcemap.ConfidenceLow
	)
	helm := func(l *sourcemap.Location, template string, values ...string) *sourcemap.Location {
		l.Template, l.ValuesFiles = template, values
		return l
	}
	return map[string]want{
		// The plain repository.
		"Deployment/plain-shop/web": {loc: loc(plainURL, "", "", "apps/web.yaml", 0, 2, plain, search, low),
			detail: []string{"search: Deployment/plain-shop/web found in apps/web.yaml"}},
		"Deployment/plain-shop/api": {loc: loc(plainURL, "", "", "apps/api.yaml", 1, 10, plain, sourcemap.ViaAnnotation, high),
			detail: []string{"annotation source.kmend.dev/file=apps/api.yaml, document 1 → Deployment api verified"}},
		"CronJob/plain-shop/backup": {loc: loc(plainURL, "", "", "apps/backup.yaml", 0, 1, plain, search, low)},
		"Deployment/plain-shop/twin": {err: sourcemap.ErrAmbiguous,
			cands: []string{plainURL + "//dup/twin-a.yaml#0:2", plainURL + "//dup/twin-b.yaml#0:1"}},
		"Deployment/plain-shop/ghost": {err: sourcemap.ErrNotFound,
			detail: []string{"no tracking metadata, and the default checkout has no apps/v1 Deployment/plain-shop/ghost"}},

		// Argo CD: the app of apps, a plain directory, a Helm chart with a
		// $values ref, three kustomize overlays, another repository.
		"Application/argocd/root": {err: sourcemap.ErrNotFound}, // applied by hand, from another checkout
		"Application/argocd/shop": {loc: loc(gitopsURL, "main", "apps", "apps/shop.yaml", 0, 1, plain, argo, medium),
			detail: []string{"argocd tracking-id root:argoproj.io/Application:argocd/shop → Application argocd/root → path apps"}},
		"Application/argocd/platform":           {loc: loc(gitopsURL, "main", "apps", "apps/platform.yaml", 0, 3, plain, argo, medium)},
		"Application/argocd/storefront-dev":     {loc: loc(gitopsURL, "main", "apps", "apps/storefront.yaml", 0, 2, plain, argo, medium)},
		"Application/argocd/storefront-staging": {loc: loc(gitopsURL, "main", "apps", "apps/storefront.yaml", 1, 17, plain, argo, medium)},
		"Application/argocd/storefront-prod":    {loc: loc(gitopsURL, "main", "apps", "apps/storefront.yaml", 2, 32, plain, argo, medium)},
		"Application/argocd/vendor":             {loc: loc(gitopsURL, "main", "apps", "apps/vendor.yaml", 0, 2, plain, argo, medium)},
		"Application/argocd/escape":             {err: sourcemap.ErrNotFound}, // applied by hand, in no repository
		"Deployment/shop/cart": {loc: loc(gitopsURL, "main", "workloads/shop", "workloads/shop/cart.yaml", 0, 1, plain, argo, medium),
			detail: []string{"argocd tracking-id shop:apps/Deployment:shop/cart → Application argocd/shop → path workloads/shop"}},
		"Deployment/platform/platform-webapp": {loc: helm(loc(gitopsURL, "main", "charts/webapp", "", 0, 0, sourcemap.KindHelm, argo, medium),
			"charts/webapp/templates/deployment.yaml", "charts/webapp/values.yaml", "values/platform.yaml"),
			detail: []string{"Helm chart", "template charts/webapp/templates/deployment.yaml"}},
		"Deployment/shop-dev/dev-web": {loc: loc(kustomizeURL, "main", "overlays/dev", "base/web/deployment.yaml", 0, 3, kust, argo, medium),
			detail: []string{"path overlays/dev (kustomize)"}},
		"Deployment/shop-staging/web-staging": {loc: loc(kustomizeURL, "main", "overlays/staging", "base/web/deployment.yaml", 0, 3, kust, argo, low),
			detail: []string{"label app.kubernetes.io/instance=storefront-staging → Application argocd/storefront-staging"}},
		"Deployment/shop-prod/prod-web": {loc: loc(kustomizeURL, "v2.3.0", "overlays/prod", "base/web/deployment.yaml", 0, 3, kust, sourcemap.ViaOrigin, high),
			detail: []string{"kustomize origin path ../../base/web/deployment.yaml from root overlays/prod", "(name changed by kustomize)"}},
		"Deployment/vendor/addon-operator": {loc: loc(vendorURL, "v3.1.0", "deploy", "", 0, 0, plain, argo, medium),
			detail: []string{"the source is in another repository (" + vendorURL + "), not checked out"}},

		// Flux: bootstrap's objects, a Kustomization's directory, a
		// HelmRelease with its chart in the repository.
		"GitRepository/flux-system/flux-system": {loc: loc(fleetURL, "main", "clusters/prod", "clusters/prod/flux-system/gotk-sync.yaml", 0, 2, fluxKS, flux, medium)},
		"Kustomization/flux-system/flux-system": {loc: loc(fleetURL, "main", "clusters/prod", "clusters/prod/flux-system/gotk-sync.yaml", 1, 15, fluxKS, flux, medium)},
		"Kustomization/flux-system/apps":        {loc: loc(fleetURL, "main", "clusters/prod", "clusters/prod/apps.yaml", 0, 1, fluxKS, flux, medium)},
		"Kustomization/flux-system/evil":        {err: sourcemap.ErrNotFound}, // applied by hand, in no repository
		"HelmRelease/team-a/webapp":             {loc: loc(fleetURL, "main", "apps/prod", "apps/prod/webapp/release.yaml", 1, 7, fluxKS, flux, medium)},
		"Deployment/podinfo/podinfo": {loc: loc(fleetURL, "main", "apps/prod", "apps/prod/podinfo/deployment.yaml", 1, 6, fluxKS, flux, medium),
			detail: []string{"flux labels → Kustomization flux-system/apps → GitRepository flux-system/flux-system (" + fleetURL + ", branch main) → path apps/prod"}},
		"Deployment/team-a/webapp": {loc: helm(loc(fleetURL, "main", "charts/webapp", "apps/prod/webapp/release.yaml", 1, 7, sourcemap.KindFluxHelmRelease, flux, medium),
			"charts/webapp/templates/deployment.yaml", "charts/webapp/values.yaml"),
			detail: []string{"HelmRelease team-a/webapp → chart charts/webapp from GitRepository flux-system/flux-system", "inline values (spec.values)"}},

		// Hostile metadata.
		"Deployment/shop/impostor": {err: sourcemap.ErrUntrusted, detail: []string{"names apps/Deployment shop/cart, not this object"}},
		"Deployment/shop/escapee":  {err: sourcemap.ErrEscapes, detail: []string{"Application argocd/escape source.path", "leaves the checkout"}},
		"Deployment/podinfo/evil":  {err: sourcemap.ErrEscapes, detail: []string{"Kustomization flux-system/evil spec.path", "leaves the checkout"}},
	}
}

// TestLiveObjectsMapToTheirFiles creates a cluster's worth of GitOps
// objects and workloads on a real API server, reads it back as kmend does
// (a snapshot with owner chains walked, the GitOps objects listed), and
// checks that every object maps to the expected repository, file,
// document and line, or is refused for the expected reason.
func TestLiveObjectsMapToTheirFiles(t *testing.T) {
	srv := kubetest.Shared(t)
	ctx := context.Background()
	files := make([]string, len(crds))
	for i, c := range crds {
		files[i] = fixtures("crds", c)
	}
	if err := srv.ApplyCRDs(ctx, files...); err != nil {
		t.Fatal(err)
	}
	kc, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	populate(t, &env{t: t, kc: kc})

	objs, err := cluster.Snapshot(ctx, srv.Config, cluster.SnapshotOptions{Cluster: "e2e"})
	if err != nil {
		t.Fatal(err)
	}
	gitops, err := cluster.GitOpsObjects(ctx, srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	mctx := sourcemap.Context{
		Repos: map[string]string{
			"":                                   fixtures("e2e", "plain"),
			plainURL:                             fixtures("e2e", "plain"),
			gitopsURL + ".git":                   fixtures("e2e", "gitops"),
			"git@github.com:kmend-e2e/kustomize": fixtures("e2e", "kustomize"),
			"ssh://git@github.com/kmend-e2e/fleet.git": fixtures("e2e", "fleet"),
		},
		ArgoCDNamespace: "argocd",
	}
	for _, o := range gitops {
		mctx.AddGitOps(o.Node)
	}
	m, err := sourcemap.NewMapper(mctx)
	if err != nil {
		t.Fatal(err)
	}

	exp := expected()
	var got []string
	all := append(slices.Clone(objs), gitops...)
	for _, o := range all {
		got = append(got, o.Ref.String())
	}
	slices.Sort(got)
	wantRefs := slices.Sorted(maps.Keys(exp))
	if !slices.Equal(got, wantRefs) {
		t.Fatalf("the cluster shows\n  %s\nwant (the objects people wrote; no ReplicaSet, Job or Pod)\n  %s",
			strings.Join(got, "\n  "), strings.Join(wantRefs, "\n  "))
	}
	for _, o := range all {
		t.Run(o.Ref.String(), func(t *testing.T) {
			checkLocation(t, m, o, exp[o.Ref.String()])
		})
	}
}

func checkLocation(t *testing.T, m *sourcemap.Mapper, o manifest.Object, w want) {
	t.Helper()
	res := m.Locate(o.Node)
	if res.Object.UID == "" || res.Object.UID != o.Ref.UID {
		t.Errorf("result names %+v, not the live object %s", res.Object, o.Ref.UID)
	}
	var cands []string
	for _, c := range res.Candidates {
		s := c.Repo
		if c.Ref != "" {
			s += "@" + c.Ref
		}
		cands = append(cands, fmt.Sprintf("%s//%s#%d:%d", s, c.File, c.Document, c.Line))
	}
	if !slices.Equal(cands, w.cands) {
		t.Errorf("candidates %q, want %q", cands, w.cands)
	}
	if w.loc == nil {
		if res.Location != nil || !errors.Is(res.Err, w.err) {
			t.Fatalf("located at %+v (err %v), want no location and %v", res.Location, res.Err, w.err)
		}
		for _, d := range w.detail {
			if !strings.Contains(res.Err.Error(), d) {
				t.Errorf("error %q lacks %q", res.Err, d)
			}
		}
		return
	}
	if res.Err != nil || res.Location == nil {
		t.Fatalf("not located: %v", res.Err)
	}
	l := *res.Location
	for _, d := range w.detail {
		if !strings.Contains(l.Detail, d) {
			t.Errorf("detail %q lacks %q", l.Detail, d)
		}
	}
	l.Detail = ""
	if fmt.Sprintf("%+v", l) != fmt.Sprintf("%+v", *w.loc) {
		t.Errorf("location\n got %+v\nwant %+v\n(detail: %s)", l, *w.loc, res.Location.Detail)
	}
	// The file and line are real: the object's kind and name are there.
	if dir, ok := m.Checkout(l.Repo); ok && l.File != "" {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(l.File)))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		if l.Line < 1 || l.Line > len(lines) || !strings.HasPrefix(lines[l.Line-1], "apiVersion:") {
			t.Errorf("%s:%d is not the start of an object", l.File, l.Line)
		}
	}
}

var deploymentsGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}

// TestPatchedObjectStillMaps: a Deployment edited by hand in the cluster
// (kubectl edit) still maps to its file through kmend's annotations.
func TestPatchedObjectStillMaps(t *testing.T) {
	srv := kubetest.Shared(t)
	ctx := context.Background()
	if err := srv.ApplyCRDs(ctx, fixtures("crds", "argoproj.io_applications.yaml")); err != nil {
		t.Fatal(err)
	}
	kc, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, kc: kc}
	e.create(e.one("apiVersion: v1\nkind: Namespace\nmetadata: {name: patched}\n"))
	e.deployment(meta(inNamespace(e.fromFile(0, "e2e", "gitops", "workloads", "shop", "cart.yaml"), "patched"),
		"a:source.kmend.dev/repo", "git@github.com:kmend-e2e/gitops.git", "a:source.kmend.dev/file", "workloads/shop/cart.yaml"))
	// kubectl edit: the live object drifts from the file; it still maps.
	if _, err := kc.Dynamic.Resource(deploymentsGVR).Namespace("patched").Patch(ctx, "cart", types.MergePatchType,
		[]byte(`{"spec":{"replicas":7},"metadata":{"labels":{"edited":"by-hand"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	objs, err := cluster.Snapshot(ctx, srv.Config, cluster.SnapshotOptions{Namespace: "patched"})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 {
		t.Fatalf("snapshot %v", objs)
	}
	m, err := sourcemap.NewMapper(sourcemap.Context{Repos: map[string]string{gitopsURL: fixtures("e2e", "gitops")}})
	if err != nil {
		t.Fatal(err)
	}
	checkLocation(t, m, objs[0], want{loc: loc(gitopsURL, "", "", "workloads/shop/cart.yaml", 0, 1, sourcemap.KindPlain, sourcemap.ViaAnnotation, sourcemap.ConfidenceHigh)})
}
