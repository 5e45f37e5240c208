package e2e

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/cluster"
	"github.com/kmend/kmend/internal/helm"
	"github.com/kmend/kmend/internal/kubetest"
	"github.com/kmend/kmend/internal/kustomize"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/sourcemap"
)

// Repositories written by others (fixtures/argocd-example-apps and
// fixtures/flux2-kustomize-helm-example, see their NOTICE.md), as Argo CD
// and Flux know them: the URL Argo CD's getting-started guide and the
// app-of-apps chart use, and the one `flux bootstrap github` writes into
// the GitRepository it creates.
const (
	argoExampleURL = "https://github.com/argoproj/argocd-example-apps.git"
	fluxExampleURL = "ssh://git@github.com/fluxcd/flux2-kustomize-helm-example"
	argoExample    = "https://github.com/argoproj/argocd-example-apps"
	fluxExample    = "https://github.com/fluxcd/flux2-kustomize-helm-example"
)

// startCluster starts an API server of the test's own (the shared one is
// checked object by object by the other tests) with the CRDs applied.
func startCluster(t *testing.T, crdFiles ...string) (*kubetest.Server, *env) {
	t.Helper()
	srv := kubetest.Start(t)
	files := make([]string, len(crdFiles))
	for i, c := range crdFiles {
		files[i] = fixtures("crds", c)
	}
	if err := srv.ApplyCRDs(context.Background(), files...); err != nil {
		t.Fatal(err)
	}
	kc, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	return srv, &env{t: t, kc: kc}
}

func (e *env) namespace(names ...string) {
	e.t.Helper()
	for _, ns := range names {
		e.create(e.one("apiVersion: v1\nkind: Namespace\nmetadata: {name: " + ns + "}\n"))
	}
}

// apply creates an object as a GitOps controller applies it: workloads
// with the ReplicaSet and Pod their controllers make.
func (e *env) apply(u *unstructured.Unstructured) {
	e.t.Helper()
	if u.GetKind() == "Deployment" {
		e.deployment(u)
		return
	}
	e.create(u)
}

// toUnstructured converts a rendered node.
func (e *env) toUnstructured(n interface{ MustString() string }) *unstructured.Unstructured {
	e.t.Helper()
	return e.one(n.MustString())
}

// argoTracked sets what Argo CD (annotation tracking, the default since
// Argo CD 3) writes on every object an Application syncs: the tracking-id,
// and the destination namespace on namespaced objects that name none.
func argoTracked(u *unstructured.Unstructured, app, destNS string) *unstructured.Unstructured {
	if u.GetKind() != "Namespace" {
		inNamespace(u, destNS)
	}
	group := ""
	if g, _, ok := strings.Cut(u.GetAPIVersion(), "/"); ok {
		group = g
	}
	return meta(u, tracking(app, group, u.GetKind(), u.GetNamespace(), u.GetName())...)
}

// mapperFor builds the mapper kmend uses on a cluster: its GitOps objects
// and the checkouts.
func mapperFor(t *testing.T, gitops []manifest.Object, repos map[string]string, argoNS string) *sourcemap.Mapper {
	t.Helper()
	mctx := sourcemap.Context{Repos: repos, ArgoCDNamespace: argoNS}
	for _, o := range gitops {
		mctx.AddGitOps(o.Node)
	}
	m, err := sourcemap.NewMapper(mctx)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// snapshotAndMap reads the cluster as kmend does, checks every workload
// with the whole built-in catalog, and checks that the objects are
// exactly those of exp, that the workloads with findings are exactly
// withFindings, and that each object maps where exp says.
func snapshotAndMap(t *testing.T, srv *kubetest.Server, clusterName string, repos map[string]string, argoNS string,
	exp map[string]want, withFindings []string) {
	t.Helper()
	ctx := context.Background()
	objs, err := cluster.Snapshot(ctx, srv.Config, cluster.SnapshotOptions{Cluster: clusterName})
	if err != nil {
		t.Fatal(err)
	}
	gitops, err := cluster.GitOpsObjects(ctx, srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	m := mapperFor(t, gitops, repos, argoNS)

	all := append(slices.Clone(objs), gitops...)
	var got []string
	for _, o := range all {
		got = append(got, o.Ref.String())
	}
	slices.Sort(got)
	if wantRefs := slices.Sorted(maps.Keys(exp)); !slices.Equal(got, wantRefs) {
		t.Fatalf("the cluster shows\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(wantRefs, "\n  "))
	}

	cat, err := catalog.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	var failing []string
	controls := map[string][]string{}
	for _, o := range objs {
		for _, r := range check.Run(cat.All(), o, check.Options{}) {
			if r.Finding.Suppression == nil {
				controls[o.Ref.String()] = append(controls[o.Ref.String()], r.Finding.ControlID)
			}
		}
		if len(controls[o.Ref.String()]) > 0 {
			failing = append(failing, o.Ref.String())
		}
	}
	slices.Sort(failing)
	want := slices.Sorted(slices.Values(withFindings))
	if !slices.Equal(failing, want) {
		t.Errorf("workloads with findings\n  %s\nwant\n  %s", strings.Join(failing, "\n  "), strings.Join(want, "\n  "))
	}
	for _, o := range all {
		t.Run(o.Ref.String(), func(t *testing.T) {
			if c := controls[o.Ref.String()]; len(c) > 0 {
				t.Logf("%d findings (%s)", len(c), strings.Join(slices.Compact(slices.Sorted(slices.Values(c))), " "))
			}
			checkLocation(t, m, o, exp[o.Ref.String()])
			if w := exp[o.Ref.String()]; w.loc != nil && w.loc.Template != "" {
				checkTemplate(t, m, *w.loc, o)
			}
		})
	}
}

// checkTemplate checks a Helm location: the template renders an object of
// the kind, and every values file is in the checkout.
func checkTemplate(t *testing.T, m *sourcemap.Mapper, l sourcemap.Location, o manifest.Object) {
	t.Helper()
	dir, ok := m.Checkout(l.Repo)
	if !ok {
		t.Fatalf("%s is not checked out", l.Repo)
	}
	for _, f := range append([]string{l.Template}, l.ValuesFiles...) {
		if _, err := readRepoFile(dir, f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	b, _ := readRepoFile(dir, l.Template)
	if !strings.Contains(string(b), "kind: "+o.Ref.Kind) {
		t.Errorf("template %s renders no %s", l.Template, o.Ref.Kind)
	}
}

// TestUpstreamArgoCDExampleApps: argoproj/argocd-example-apps deployed as
// Argo CD's documentation deploys it. The app of apps (apps/, a Helm
// chart of Applications) is created by hand (`argocd app create apps
// --path apps`, the cluster-bootstrapping guide) and its Applications are
// what Argo CD renders from the chart (internal/helm renders it here, as
// Argo CD's repo-server runs helm template with the Application's name as
// release name); guestbook is created by hand as in the getting-started
// guide. Each child's objects are what Argo CD renders (the plain
// directory as is, the kustomization with internal/kustomize, the chart
// with internal/helm), with the tracking-id and destination namespace
// Argo CD sets, and the ReplicaSets and Pods their controllers make.
func TestUpstreamArgoCDExampleApps(t *testing.T) {
	t.Parallel() // a cluster of its own
	srv, e := startCluster(t, "argoproj.io_applications.yaml")
	repo := fixtures("argocd-example-apps")
	e.namespace("argocd", "helm-guestbook")

	e.create(e.one(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: apps, namespace: argocd}
spec:
  project: default
  source: {repoURL: "` + argoExampleURL + `", path: apps, targetRevision: HEAD}
  destination: {server: "https://kubernetes.default.svc", namespace: argocd}
`))
	apps, err := helm.Renderer{Repo: repo, Release: "apps", Namespace: "argocd"}.Render("apps")
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 2 {
		t.Fatalf("the apps chart renders %d objects, want the 2 Applications", len(apps))
	}
	for _, a := range apps {
		e.create(argoTracked(e.toUnstructured(a.Node), "apps", "argocd"))
	}
	e.create(e.one(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: guestbook, namespace: argocd}
spec:
  project: default
  source: {repoURL: "` + argoExampleURL + `", path: guestbook, targetRevision: HEAD}
  destination: {server: "https://kubernetes.default.svc", namespace: default}
`))

	// guestbook: a plain directory.
	for _, f := range []string{"guestbook-ui-deployment.yaml", "guestbook-ui-svc.yaml"} {
		e.apply(argoTracked(e.fromFile(0, "argocd-example-apps", "guestbook", f), "guestbook", "default"))
	}
	// kustomize-guestbook: kustomize build (namePrefix, a ConfigMap
	// generator); the Application's destination namespace is argocd.
	built, err := kustomize.Build(repo, "kustomize-guestbook")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range built {
		e.apply(argoTracked(e.toUnstructured(o.Node), "kustomize-guestbook", "argocd"))
	}
	// helm-guestbook: the chart rendered with its values.yaml, release
	// helm-guestbook in namespace helm-guestbook.
	rendered, err := helm.Renderer{Repo: repo, Release: "helm-guestbook", Namespace: "helm-guestbook"}.Render("helm-guestbook")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range rendered {
		e.apply(argoTracked(e.toUnstructured(o.Node), "helm-guestbook", "helm-guestbook"))
	}

	const (
		argo   = sourcemap.ViaArgoCD
		medium = sourcemap.ConfidenceMedium
	)
	helmLoc := func(l *sourcemap.Location, template string, values ...string) *sourcemap.Location {
		l.Template, l.ValuesFiles = template, values
		return l
	}
	exp := map[string]want{
		// Created by hand (argocd app create): in no file.
		"Application/argocd/apps":      {err: sourcemap.ErrNotFound},
		"Application/argocd/guestbook": {err: sourcemap.ErrNotFound},
		// Rendered by the app-of-apps chart: its template for each.
		"Application/argocd/helm-guestbook": {loc: helmLoc(loc(argoExample, "HEAD", "apps", "", 0, 0, sourcemap.KindHelm, argo, medium),
			"apps/templates/helm-guestbook.yaml", "apps/values.yaml"),
			detail: []string{"argocd tracking-id apps:argoproj.io/Application:argocd/helm-guestbook → Application argocd/apps → path apps: Helm chart"}},
		"Application/argocd/kustomize-guestbook": {loc: helmLoc(loc(argoExample, "HEAD", "apps", "", 0, 0, sourcemap.KindHelm, argo, medium),
			"apps/templates/kustomize-guestbook.yaml", "apps/values.yaml")},
		// The guestbook Deployment: its file.
		"Deployment/default/guestbook-ui": {loc: loc(argoExample, "HEAD", "guestbook", "guestbook/guestbook-ui-deployment.yaml", 0, 1, sourcemap.KindPlain, argo, medium),
			detail: []string{"argocd tracking-id guestbook:apps/Deployment:default/guestbook-ui → Application argocd/guestbook → path guestbook"}},
		// kustomize-guestbook: the kustomization's resource, under its
		// original name (the prefix is the kustomization's).
		"Deployment/argocd/kustomize-guestbook-ui": {loc: loc(argoExample, "HEAD", "kustomize-guestbook", "kustomize-guestbook/guestbook-ui-deployment.yaml", 0, 1, sourcemap.KindKustomize, argo, medium),
			detail: []string{"path kustomize-guestbook (kustomize)"}},
		// helm-guestbook: the chart, its template and its values.yaml.
		"Deployment/helm-guestbook/helm-guestbook": {loc: helmLoc(loc(argoExample, "HEAD", "helm-guestbook", "", 0, 0, sourcemap.KindHelm, argo, medium),
			"helm-guestbook/templates/deployment.yaml", "helm-guestbook/values.yaml"),
			detail: []string{"path helm-guestbook: Helm chart", "template helm-guestbook/templates/deployment.yaml"}},
	}
	snapshotAndMap(t, srv, "argocd-example", map[string]string{argoExampleURL: repo}, "argocd", exp,
		[]string{"Deployment/argocd/kustomize-guestbook-ui", "Deployment/default/guestbook-ui", "Deployment/helm-guestbook/helm-guestbook"})
}

// podinfoRendered stands for what helm-controller creates from the podinfo
// chart (stefanprodan/podinfo, from the HelmRepository the HelmRelease
// names) for the values of apps/base/podinfo/release.yaml: the podinfo
// Deployment and, with redis.enabled, the redis one. The chart is not in
// the repository and is not rendered here: the objects are written after
// its templates (names, labels, containers), with the labels
// helm-controller adds, which are what kmend follows.
const podinfoRendered = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: podinfo
  labels:
    helm.sh/chart: podinfo-6.9.0
    app.kubernetes.io/name: podinfo
    app.kubernetes.io/version: "6.9.0"
    app.kubernetes.io/managed-by: Helm
    helm.toolkit.fluxcd.io/name: podinfo
    helm.toolkit.fluxcd.io/namespace: podinfo
spec:
  replicas: 1
  selector:
    matchLabels: {app.kubernetes.io/name: podinfo}
  template:
    metadata:
      labels: {app.kubernetes.io/name: podinfo}
      annotations: {prometheus.io/scrape: "true", prometheus.io/port: "9898"}
    spec:
      terminationGracePeriodSeconds: 30
      containers:
        - name: podinfo
          image: "ghcr.io/stefanprodan/podinfo:6.9.0"
          imagePullPolicy: IfNotPresent
          command: [./podinfo, --port=9898, --cert-path=/data/cert, --port-metrics=9797, --grpc-port=9999, --grpc-service-name=podinfo, --cache-server=tcp://podinfo-redis:6379, --level=info, --random-delay=false, --random-error=false]
          env:
            - {name: PODINFO_UI_COLOR, value: "#34577c"}
          ports:
            - {name: http, containerPort: 9898, protocol: TCP}
            - {name: http-metrics, containerPort: 9797, protocol: TCP}
            - {name: grpc, containerPort: 9999, protocol: TCP}
          livenessProbe:
            exec: {command: [podcli, check, http, localhost:9898/healthz]}
            initialDelaySeconds: 1
            timeoutSeconds: 5
          readinessProbe:
            exec: {command: [podcli, check, http, localhost:9898/readyz]}
            initialDelaySeconds: 1
            timeoutSeconds: 5
          volumeMounts:
            - {name: data, mountPath: /data}
          resources:
            limits: null
            requests: {cpu: 1m, memory: 16Mi}
      volumes:
        - {name: data, emptyDir: {}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo-redis
  namespace: podinfo
  labels:
    helm.sh/chart: podinfo-6.9.0
    app.kubernetes.io/name: podinfo-redis
    app.kubernetes.io/version: "6.9.0"
    app.kubernetes.io/managed-by: Helm
    helm.toolkit.fluxcd.io/name: podinfo
    helm.toolkit.fluxcd.io/namespace: podinfo
spec:
  strategy: {type: Recreate}
  selector:
    matchLabels: {app.kubernetes.io/name: podinfo-redis}
  template:
    metadata:
      labels: {app.kubernetes.io/name: podinfo-redis}
    spec:
      containers:
        - name: redis
          image: "public.ecr.aws/docker/library/redis:8.6.2"
          imagePullPolicy: IfNotPresent
          command: [redis-server, /redis-master/redis.conf]
          ports:
            - {name: redis, containerPort: 6379, protocol: TCP}
          livenessProbe:
            tcpSocket: {port: redis}
          readinessProbe:
            exec: {command: [redis-cli, ping]}
          volumeMounts:
            - {mountPath: /var/lib/redis, name: data}
            - {mountPath: /redis-master, name: config}
      volumes:
        - {name: data, emptyDir: {}}
        - {name: config, configMap: {name: podinfo-redis, items: [{key: redis.conf, path: redis.conf}]}}
`

// TestUpstreamFluxKustomizeHelmExample: fluxcd/flux2-kustomize-helm-example
// bootstrapped on a staging and a production cluster as its README says
// (`flux bootstrap github --path=clusters/<env>`). Each cluster holds the
// GitRepository and Kustomization bootstrap creates (the repository only
// has placeholders for them), the Kustomizations of clusters/<env> applied
// by flux-system, what each of those applies (kustomize build of its
// path: HelmReleases and Namespaces; kinds whose CRDs are not installed
// here — OCIRepository, ClusterIssuer, Gateway API — are left out), and
// the workloads helm-controller renders from the external charts, with
// the labels kustomize-controller and helm-controller put on them.
// Kustomizations written as kustomize.toolkit.fluxcd.io/v1beta2 are read
// back at v1, as a cluster with Flux's CRDs serves them.
func TestUpstreamFluxKustomizeHelmExample(t *testing.T) {
	t.Parallel() // clusters of their own
	repo := fixtures("flux2-kustomize-helm-example")
	for _, envName := range []string{"staging", "production"} {
		t.Run(envName, func(t *testing.T) {
			t.Parallel()
			srv, e := startCluster(t, "kustomize.toolkit.fluxcd.io_kustomizations.yaml",
				"source.toolkit.fluxcd.io_gitrepositories.yaml", "helm.toolkit.fluxcd.io_helmreleases.yaml")
			e.namespace("flux-system")
			fluxKSv1 := func(u *unstructured.Unstructured, by string) *unstructured.Unstructured {
				if g, _, _ := strings.Cut(u.GetAPIVersion(), "/"); g == "kustomize.toolkit.fluxcd.io" {
					u.SetAPIVersion("kustomize.toolkit.fluxcd.io/v1")
				}
				return meta(u, fluxKS(by)...)
			}
			// flux bootstrap's gotk-sync.yaml, reconciled by flux-system.
			e.create(fluxKSv1(e.one(`apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec:
  interval: 1m0s
  ref: {branch: main}
  secretRef: {name: flux-system}
  url: `+fluxExampleURL+`
`), "flux-system"))
			e.create(fluxKSv1(e.one(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: flux-system, namespace: flux-system}
spec:
  interval: 10m0s
  path: ./clusters/`+envName+`
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
`), "flux-system"))
			for _, f := range []string{"apps.yaml", "infrastructure.yaml"} {
				b, err := readRepoFile(repo, "clusters/"+envName+"/"+f)
				if err != nil {
					t.Fatal(err)
				}
				for _, u := range e.decode(b) {
					e.create(fluxKSv1(u, "flux-system"))
				}
			}
			// What each Kustomization applies.
			for _, k := range []struct{ name, path string }{
				{"infra-controllers", "infrastructure/controllers"},
				{"apps", "apps/" + envName},
			} {
				built, err := kustomize.Build(repo, k.path)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range built {
					if o.Ref.Kind == "OCIRepository" {
						continue // no CRD here
					}
					e.apply(meta(e.toUnstructured(o.Node), fluxKS(k.name)...))
				}
			}
			// What helm-controller renders from the charts.
			for _, u := range e.decode([]byte(podinfoRendered)) {
				e.apply(u)
			}
			e.apply(e.one(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: cert-manager
  namespace: cert-manager
  labels: {app.kubernetes.io/name: cert-manager, app.kubernetes.io/instance: cert-manager, app.kubernetes.io/component: controller,
    app.kubernetes.io/managed-by: Helm, helm.toolkit.fluxcd.io/name: cert-manager, helm.toolkit.fluxcd.io/namespace: cert-manager}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: cert-manager, app.kubernetes.io/instance: cert-manager, app.kubernetes.io/component: controller}}
  template:
    metadata:
      labels: {app.kubernetes.io/name: cert-manager, app.kubernetes.io/instance: cert-manager, app.kubernetes.io/component: controller}
    spec:
      serviceAccountName: cert-manager
      enableServiceLinks: false
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: cert-manager-controller
          image: "quay.io/jetstack/cert-manager-controller:v1.18.2"
          imagePullPolicy: IfNotPresent
          args: [--v=2, --cluster-resource-namespace=$(POD_NAMESPACE), --leader-election-namespace=kube-system, --enable-gateway-api]
          ports:
            - {containerPort: 9402, name: http-metrics, protocol: TCP}
            - {containerPort: 9403, name: http-healthz, protocol: TCP}
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
            readOnlyRootFilesystem: true
          env:
            - name: POD_NAMESPACE
              valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
          livenessProbe:
            httpGet: {port: http-healthz, path: /livez, scheme: HTTP}
            initialDelaySeconds: 10
`))

			const (
				fluxKSKind = sourcemap.KindFluxKustomization
				flux       = sourcemap.ViaFlux
				medium     = sourcemap.ConfidenceMedium
			)
			clusters := "clusters/" + envName
			apps := "apps/" + envName
			infraFile := clusters + "/infrastructure.yaml"
			appsLine := map[string]int{"staging": 1, "production": 2}[envName]
			version := map[string]string{"staging": ">=1.0.0-alpha", "production": ">=1.0.0"}[envName]
			podinfo := func() *sourcemap.Location {
				l := loc(fluxExample, "main", "", "apps/base/podinfo/release.yaml", 0, 1, sourcemap.KindFluxHelmRelease, flux, medium)
				l.ValuesPatches = []string{apps + "/podinfo-values.yaml"}
				return l
			}
			exp := map[string]want{
				// Written by flux bootstrap into the user's copy of
				// clusters/<env>/flux-system; the example has placeholders.
				"GitRepository/flux-system/flux-system": {err: sourcemap.ErrNotFound},
				"Kustomization/flux-system/flux-system": {err: sourcemap.ErrNotFound},
				"Kustomization/flux-system/apps": {loc: loc(fluxExample, "main", clusters, clusters+"/apps.yaml", 0, appsLine, fluxKSKind, flux, medium),
					detail: []string{"flux labels → Kustomization flux-system/flux-system → GitRepository flux-system/flux-system (" + fluxExample + ", branch main) → path " + clusters}},
				"Kustomization/flux-system/infra-controllers": {loc: loc(fluxExample, "main", clusters, infraFile, 0, 2, fluxKSKind, flux, medium)},
				"Kustomization/flux-system/infra-configs":     {loc: loc(fluxExample, "main", clusters, infraFile, 1, 18, fluxKSKind, flux, medium)},
				// The HelmReleases: their files (the base's, for podinfo:
				// the overlay only patches it).
				"HelmRelease/podinfo/podinfo": {loc: loc(fluxExample, "main", apps, "apps/base/podinfo/release.yaml", 0, 1, fluxKSKind, flux, medium),
					detail: []string{"→ path " + apps + " (kustomize)"}},
				"HelmRelease/cert-manager/cert-manager": {loc: loc(fluxExample, "main", "infrastructure/controllers",
					"infrastructure/controllers/cert-manager.yaml", 2, 23, fluxKSKind, flux, medium)},
				"HelmRelease/envoy-gateway-system/envoy-gateway": {loc: loc(fluxExample, "main", "infrastructure/controllers",
					"infrastructure/controllers/envoy-gateway.yaml", 2, 23, fluxKSKind, flux, medium)},
				// Rendered from external charts: the HelmRelease's file,
				// whose spec.values a person edits.
				// podinfo: the base's HelmRelease (values every cluster
				// shares) and the overlay's values patch (this cluster's).
				"Deployment/podinfo/podinfo": {loc: podinfo(),
					detail: []string{"HelmRelease podinfo/podinfo → chart podinfo " + version + " from HelmRepository podinfo/podinfo (external chart, no file) → inline values (spec.values) in apps/base/podinfo/release.yaml",
						"spec.values patched by " + apps + "/podinfo-values.yaml"}},
				"Deployment/podinfo/podinfo-redis": {loc: podinfo()},
				"Deployment/cert-manager/cert-manager": {loc: loc(fluxExample, "main", "", "infrastructure/controllers/cert-manager.yaml", 2, 23, sourcemap.KindFluxHelmRelease, flux, medium),
					detail: []string{"chartRef OCIRepository cert-manager/cert-manager (external chart, no file)"}},
			}
			snapshotAndMap(t, srv, "flux-"+envName, map[string]string{fluxExampleURL: repo}, "", exp,
				[]string{"Deployment/cert-manager/cert-manager", "Deployment/podinfo/podinfo", "Deployment/podinfo/podinfo-redis"})
		})
	}
}

// readRepoFile reads a file of a checkout by its repository path.
func readRepoFile(dir, rel string) ([]byte, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	b, err := root.ReadFile(rel)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	return b, nil
}
