package sourcemap

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

const (
	gitopsURL    = "https://github.com/kmend-fixtures/gitops"
	kustomizeURL = "https://github.com/kmend-fixtures/kustomize"
	fleetURL     = "https://github.com/kmend-fixtures/fleet"
)

func fixture(name string) string { return filepath.Join("..", "..", "fixtures", "sourcemap", name) }

// live parses one live object.
func live(t testing.TB, s string) *yaml.RNode {
	t.Helper()
	n, err := yaml.Parse(s)
	if err != nil {
		t.Fatalf("parse live object: %v\n%s", err, s)
	}
	return n
}

// lives parses a multi-document stream of live objects.
func lives(t testing.TB, s string) []*yaml.RNode {
	t.Helper()
	var out []*yaml.RNode
	for doc := range strings.SplitSeq(s, "\n---\n") {
		if strings.TrimSpace(doc) != "" {
			out = append(out, live(t, doc))
		}
	}
	return out
}

// The Argo CD Applications as the cluster shows them: the root app was
// applied by hand; every child carries the root's tracking-id.
const liveApplications = `
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: root
  namespace: argocd
  uid: 0b9a4c1e-0000-4000-8000-000000000001
spec:
  source:
    repoURL: git@github.com:kmend-fixtures/gitops.git
    targetRevision: main
    path: apps
  destination:
    server: https://kubernetes.default.svc
    namespace: argocd
status:
  sync:
    status: Synced
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
  namespace: argocd
  annotations:
    argocd.argoproj.io/tracking-id: root:argoproj.io/Application:argocd/web
spec:
  source:
    repoURL: https://github.com/kmend-fixtures/gitops.git
    targetRevision: main
    path: workloads/web
  destination:
    server: https://kubernetes.default.svc
    namespace: shop
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: api
  namespace: team-a
  annotations:
    argocd.argoproj.io/tracking-id: root:argoproj.io/Application:team-a/api
spec:
  source:
    repoURL: https://kmend-bot:not-a-secret@github.com/kmend-fixtures/gitops.git
    targetRevision: main
    path: workloads/api
  destination:
    server: https://kubernetes.default.svc
    namespace: team-a
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: platform
  namespace: argocd
  annotations:
    argocd.argoproj.io/tracking-id: root:argoproj.io/Application:argocd/platform
spec:
  sources:
    - repoURL: https://charts.example.com/stable
      chart: ingress-nginx
      targetRevision: 4.11.0
      helm:
        releaseName: ingress
        valueFiles:
          - $values/values/ingress-nginx.yaml
    - repoURL: https://github.com/kmend-fixtures/gitops
      targetRevision: main
      ref: values
    - repoURL: https://github.com/kmend-fixtures/gitops
      targetRevision: main
      path: workloads/platform
  destination:
    server: https://kubernetes.default.svc
    namespace: platform
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: monitoring
  namespace: argocd
  annotations:
    argocd.argoproj.io/tracking-id: root:argoproj.io/Application:argocd/monitoring
spec:
  source:
    repoURL: https://github.com/kmend-fixtures/gitops
    targetRevision: main
    path: charts/monitoring
    helm:
      valueFiles:
        - values-prod.yaml
  destination:
    server: https://kubernetes.default.svc
    namespace: monitoring
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: dashboards
  namespace: argocd
  annotations:
    argocd.argoproj.io/tracking-id: root:argoproj.io/Application:argocd/dashboards
spec:
  source:
    repoURL: https://charts.example.com/stable
    chart: grafana
    targetRevision: 8.5.0
    helm:
      valuesObject:
        securityContext:
          runAsNonRoot: true
  destination:
    server: https://kubernetes.default.svc
    namespace: monitoring
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: vendor
  namespace: argocd
  annotations:
    argocd.argoproj.io/tracking-id: root:argoproj.io/Application:argocd/vendor
spec:
  source:
    repoURL: https://github.com/vendor-org/addons.git
    targetRevision: v3.1.0
    path: deploy/addons
  destination:
    server: https://kubernetes.default.svc
    namespace: vendor
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web-prod
  namespace: argocd
  annotations:
    argocd.argoproj.io/tracking-id: root:argoproj.io/Application:argocd/web-prod
spec:
  source:
    repoURL: https://github.com/kmend-fixtures/kustomize
    targetRevision: main
    path: overlays/prod
  destination:
    server: https://kubernetes.default.svc
    namespace: prod
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web-staging
  namespace: argocd
  annotations:
    argocd.argoproj.io/tracking-id: root:argoproj.io/Application:argocd/web-staging
spec:
  source:
    repoURL: https://github.com/kmend-fixtures/kustomize
    targetRevision: main
    path: overlays/staging
  destination:
    server: https://kubernetes.default.svc
    namespace: staging
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: twins
  namespace: argocd
  annotations:
    argocd.argoproj.io/tracking-id: root:argoproj.io/Application:argocd/twins
spec:
  source:
    repoURL: https://github.com/kmend-fixtures/gitops
    targetRevision: main
    path: workloads/twins
  destination:
    server: https://kubernetes.default.svc
    namespace: twins
`

// The Flux objects as the cluster shows them.
const liveFlux = `
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
  labels:
    kustomize.toolkit.fluxcd.io/name: flux-system
    kustomize.toolkit.fluxcd.io/namespace: flux-system
spec:
  ref:
    branch: main
  url: ssh://git@github.com/kmend-fixtures/fleet
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: fleet-pinned
  namespace: flux-system
  labels:
    kustomize.toolkit.fluxcd.io/name: flux-system
    kustomize.toolkit.fluxcd.io/namespace: flux-system
spec:
  url: https://github.com/kmend-fixtures/fleet.git
  ref:
    branch: main
    tag: v1.2.0
    commit: 6f1c2d3e4b5a69788796a5b4c3d2e1f0a9b8c7d6
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: flux-system
  namespace: flux-system
  labels:
    kustomize.toolkit.fluxcd.io/name: flux-system
    kustomize.toolkit.fluxcd.io/namespace: flux-system
spec:
  path: ./clusters/prod
  sourceRef:
    kind: GitRepository
    name: flux-system
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
  labels:
    kustomize.toolkit.fluxcd.io/name: flux-system
    kustomize.toolkit.fluxcd.io/namespace: flux-system
spec:
  path: ./apps/prod
  sourceRef:
    kind: GitRepository
    name: flux-system
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: redis
  namespace: redis
  labels:
    kustomize.toolkit.fluxcd.io/name: apps
    kustomize.toolkit.fluxcd.io/namespace: flux-system
spec:
  chart:
    spec:
      chart: redis
      version: 19.6.0
      sourceRef:
        kind: HelmRepository
        name: bitnami
  values:
    master:
      containerSecurityContext:
        runAsNonRoot: true
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: cache
  namespace: cache
  labels:
    kustomize.toolkit.fluxcd.io/name: apps
    kustomize.toolkit.fluxcd.io/namespace: flux-system
spec:
  chart:
    spec:
      chart: ./charts/cache
      sourceRef:
        kind: GitRepository
        name: fleet-pinned
        namespace: flux-system
`

func splitFlux(t testing.TB) (ks, git, hr []*yaml.RNode) {
	for _, n := range lives(t, liveFlux) {
		switch n.GetKind() {
		case "Kustomization":
			ks = append(ks, n)
		case "GitRepository":
			git = append(git, n)
		case "HelmRelease":
			hr = append(hr, n)
		}
	}
	return ks, git, hr
}

func newMapper(t testing.TB, ctx Context) *Mapper {
	t.Helper()
	m, err := NewMapper(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mappers(t *testing.T) map[string]*Mapper {
	ks, git, hr := splitFlux(t)
	return map[string]*Mapper{
		"plain":     newMapper(t, Context{Repos: map[string]string{"": fixture("plain")}}),
		"kustomize": newMapper(t, Context{Repos: map[string]string{"": fixture("kustomize")}}),
		"gitops": newMapper(t, Context{
			Applications:    lives(t, liveApplications),
			Kustomizations:  ks,
			GitRepositories: git,
			HelmReleases:    hr,
			Repos: map[string]string{
				"":                    fixture("argocd"),
				gitopsURL:             fixture("argocd"),
				kustomizeURL + ".git": fixture("kustomize"),
				"git@github.com:kmend-fixtures/fleet.git": fixture("flux"),
			},
		}),
	}
}

// obj writes a live object's YAML.
func obj(apiVersion, kind, ns, name string, meta ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n", apiVersion, kind, name)
	if ns != "" {
		fmt.Fprintf(&b, "  namespace: %s\n", ns)
	}
	b.WriteString("  uid: 7d0c6d1e-1111-4222-8333-444455556666\n  resourceVersion: \"4711\"\n")
	for _, m := range meta {
		b.WriteString(m)
	}
	b.WriteString("spec: {}\nstatus: {}\n")
	return b.String()
}

func ann(kv ...string) string {
	var b strings.Builder
	b.WriteString("  annotations:\n")
	for i := 0; i+1 < len(kv); i += 2 {
		if strings.Contains(kv[i+1], "\n") {
			fmt.Fprintf(&b, "    %s: |\n", kv[i])
			for l := range strings.SplitSeq(strings.TrimRight(kv[i+1], "\n"), "\n") {
				fmt.Fprintf(&b, "      %s\n", l)
			}
			continue
		}
		fmt.Fprintf(&b, "    %s: %q\n", kv[i], kv[i+1])
	}
	return b.String()
}

func labels(kv ...string) string {
	var b strings.Builder
	b.WriteString("  labels:\n")
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, "    %s: %q\n", kv[i], kv[i+1])
	}
	return b.String()
}

func tracking(id string) string { return ann("argocd.argoproj.io/tracking-id", id) }

func fluxKS(name, ns string) string {
	return labels("kustomize.toolkit.fluxcd.io/name", name, "kustomize.toolkit.fluxcd.io/namespace", ns)
}

type locateCase struct {
	name   string
	mapper string
	obj    string
	want   *Location // Detail is checked by detail instead
	detail []string  // substrings of Detail (or of the error)
	err    error
	cands  []string // "repo@ref//file#doc:line" of the candidates
}

func runCases(t *testing.T, ms map[string]*Mapper, cases []locateCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := ms[tc.mapper]
			if m == nil {
				t.Fatalf("no mapper %q", tc.mapper)
			}
			res := m.Locate(live(t, tc.obj))
			check(t, res, tc)
		})
	}
}

func check(t *testing.T, res Result, tc locateCase) {
	t.Helper()
	if res.Location != nil {
		t.Logf("detail: %s", res.Location.Detail)
	}
	if res.Err != nil {
		t.Logf("err: %v", res.Err)
	}
	if tc.err != nil {
		if !errors.Is(res.Err, tc.err) {
			t.Fatalf("err = %v, want %v (location %+v)", res.Err, tc.err, res.Location)
		}
		if res.Location != nil {
			t.Errorf("location %+v with an error", res.Location)
		}
		for _, d := range tc.detail {
			if !strings.Contains(res.Err.Error(), d) {
				t.Errorf("error %q does not contain %q", res.Err, d)
			}
		}
	} else if res.Err != nil {
		t.Fatalf("err = %v", res.Err)
	}
	var got []string
	for _, c := range res.Candidates {
		got = append(got, c.short())
	}
	if !slices.Equal(got, tc.cands) {
		t.Errorf("candidates = %q, want %q", got, tc.cands)
	}
	if tc.want == nil {
		return
	}
	if res.Location == nil {
		t.Fatalf("no location")
	}
	l := *res.Location
	for _, d := range tc.detail {
		if !strings.Contains(l.Detail, d) {
			t.Errorf("detail %q does not contain %q", l.Detail, d)
		}
	}
	if strings.Contains(l.Detail, "\n") {
		t.Errorf("detail has several lines: %q", l.Detail)
	}
	l.Detail = ""
	w := *tc.want
	if fmt.Sprintf("%+v", l) != fmt.Sprintf("%+v", w) {
		t.Errorf("location\n got %+v\nwant %+v", l, w)
	}
}

func TestLocatePlain(t *testing.T) {
	ms := mappers(t)
	web := "apps/web/deployment.yaml"
	cases := []locateCase{
		{
			name: "search/deployment", mapper: "plain",
			obj:    obj("apps/v1", "Deployment", "shop", "web"),
			want:   &Location{File: web, Document: 0, Line: 2, Kind: KindPlain, Via: ViaSearch, Confidence: ConfidenceLow},
			detail: []string{"search: Deployment/shop/web found in " + web},
		},
		{
			name: "search/second document", mapper: "plain",
			obj:  obj("v1", "Service", "shop", "web"),
			want: &Location{File: web, Document: 1, Line: 23, Kind: KindPlain, Via: ViaSearch, Confidence: ConfidenceLow},
		},
		{
			name: "search/file without namespace", mapper: "plain",
			obj:    obj("apps/v1", "Deployment", "shop", "api"),
			want:   &Location{File: "apps/api/api.yaml", Document: 1, Line: 9, Kind: KindPlain, Via: ViaSearch, Confidence: ConfidenceLow},
			detail: []string{"the file sets no namespace"},
		},
		{
			name: "search/List item", mapper: "plain",
			obj:  obj("batch/v1", "Job", "shop", "migrate"),
			want: &Location{File: "apps/jobs/list.yaml", Document: 0, Line: 19, Kind: KindPlain, Via: ViaSearch, Confidence: ConfidenceLow},
		},
		{
			name: "search/cluster-scoped", mapper: "plain",
			obj:  obj("v1", "Namespace", "", "payments"),
			want: &Location{File: "cluster/namespaces.yaml", Document: 1, Line: 6, Kind: KindPlain, Via: ViaSearch, Confidence: ConfidenceLow},
		},
		{
			name: "search/two equal candidates", mapper: "plain",
			obj:   obj("v1", "ConfigMap", "shop", "settings"),
			err:   ErrAmbiguous,
			cands: []string{"dup/settings-a.yaml#0:2", "dup/settings-b.yaml#0:1"},
		},
		{
			name: "search/not found", mapper: "plain",
			obj: obj("apps/v1", "Deployment", "shop", "ghost"),
			err: ErrNotFound,
		},
		{
			name: "search/namespace differs", mapper: "plain",
			obj: obj("apps/v1", "Deployment", "elsewhere", "web"),
			err: ErrNotFound,
		},
		{
			name: "search/group differs", mapper: "plain",
			obj: obj("example.com/v1", "Deployment", "shop", "web"),
			err: ErrNotFound,
		},
		{
			name: "not a Kubernetes object", mapper: "plain",
			obj: "just: yaml\n",
			err: ErrNotFound,
		},
		{
			name: "annotation/exact", mapper: "plain",
			obj:    obj("apps/v1", "Deployment", "shop", "web", ann(AnnotationFile, web, AnnotationDocument, "0", AnnotationRef, "v1.4.2")),
			want:   &Location{Ref: "v1.4.2", File: web, Document: 0, Line: 2, Kind: KindPlain, Via: ViaAnnotation, Confidence: ConfidenceHigh},
			detail: []string{"annotation source.kmend.dev/file=" + web, "verified"},
		},
		{
			name: "annotation/document found in the file", mapper: "plain",
			obj:  obj("v1", "Service", "shop", "web", ann(AnnotationFile, "./apps/web/../web/deployment.yaml")),
			want: &Location{File: web, Document: 1, Line: 23, Kind: KindPlain, Via: ViaAnnotation, Confidence: ConfidenceHigh},
		},
		{
			name: "annotation/wins over a tracking-id", mapper: "plain",
			obj:  obj("apps/v1", "Deployment", "shop", "web", ann(AnnotationFile, web, "argocd.argoproj.io/tracking-id", "evil:apps/Deployment:shop/other")),
			want: &Location{File: web, Document: 0, Line: 2, Kind: KindPlain, Via: ViaAnnotation, Confidence: ConfidenceHigh},
		},
		{
			name: "annotation/document holds another object", mapper: "plain",
			obj:    obj("v1", "Service", "shop", "web", ann(AnnotationFile, web, AnnotationDocument, "0")),
			err:    ErrUntrusted,
			detail: []string{"document 0 of " + web + " holds no Service web"},
		},
		{
			name: "annotation/file holds another object", mapper: "plain",
			obj: obj("apps/v1", "Deployment", "shop", "api", ann(AnnotationFile, web)),
			err: ErrUntrusted,
		},
		{
			name: "annotation/file missing", mapper: "plain",
			obj: obj("apps/v1", "Deployment", "shop", "web", ann(AnnotationFile, "apps/web/gone.yaml")),
			err: ErrUntrusted,
		},
		{
			name: "annotation/bad document", mapper: "plain",
			obj: obj("apps/v1", "Deployment", "shop", "web", ann(AnnotationFile, web, AnnotationDocument, "first")),
			err: ErrUntrusted,
		},
		{
			name: "annotation/dot-dot escapes", mapper: "plain",
			obj: obj("apps/v1", "Deployment", "shop", "web", ann(AnnotationFile, "../../etc/passwd")),
			err: ErrEscapes,
		},
		{
			name: "annotation/dot-dot inside escapes", mapper: "plain",
			obj: obj("apps/v1", "Deployment", "shop", "web", ann(AnnotationFile, "apps/../../../etc/passwd")),
			err: ErrEscapes,
		},
		{
			name: "annotation/absolute", mapper: "plain",
			obj: obj("apps/v1", "Deployment", "shop", "web", ann(AnnotationFile, "/etc/passwd")),
			err: ErrEscapes,
		},
		{
			name: "annotation/backslashes", mapper: "plain",
			obj: obj("apps/v1", "Deployment", "shop", "web", ann(AnnotationFile, `..\..\etc\passwd`)),
			err: ErrEscapes,
		},
		{
			name: "annotation/foreign repository", mapper: "plain",
			obj: obj("apps/v1", "Deployment", "shop", "web",
				ann(AnnotationRepo, "git@github.com:else/where.git", AnnotationRef, "main", AnnotationFile, "deploy/web.yaml", AnnotationDocument, "2")),
			want:   &Location{Repo: "https://github.com/else/where", Ref: "main", File: "deploy/web.yaml", Document: 2, Kind: KindPlain, Via: ViaAnnotation, Confidence: ConfidenceHigh},
			detail: []string{"repository https://github.com/else/where is not checked out: not verified"},
		},
		{
			name: "annotation/foreign repository still refuses escapes", mapper: "plain",
			obj: obj("apps/v1", "Deployment", "shop", "web", ann(AnnotationRepo, "https://github.com/else/where", AnnotationFile, "../x.yaml")),
			err: ErrEscapes,
		},
	}
	runCases(t, ms, cases)
}

func TestLocateKustomizeOrigin(t *testing.T) {
	ms := mappers(t)
	origin := func(s string) string { return ann("config.kubernetes.io/origin", s) }
	cases := []locateCase{
		{
			// Both overlays reach the base: the file is certain.
			name: "origin/base file from either overlay", mapper: "kustomize",
			obj:    obj("apps/v1", "Deployment", "prod", "web", origin("path: ../../base/deployment.yaml\n")),
			want:   &Location{File: "base/deployment.yaml", Document: 0, Line: 1, Kind: KindKustomize, Via: ViaOrigin, Confidence: ConfidenceMedium},
			detail: []string{"kustomize origin path ../../base/deployment.yaml from roots overlays/prod, overlays/staging"},
		},
		{
			name: "origin/prefixed name", mapper: "kustomize",
			obj:    obj("apps/v1", "Deployment", "staging", "staging-web", origin("path: ../../base/deployment.yaml\n")),
			want:   &Location{File: "base/deployment.yaml", Document: 0, Line: 1, Kind: KindKustomize, Via: ViaOrigin, Confidence: ConfidenceMedium},
			detail: []string{"name changed by kustomize"},
		},
		{
			name: "origin/same path under two roots", mapper: "kustomize",
			obj:   obj("networking.k8s.io/v1", "Ingress", "prod", "web", origin("path: ingress.yaml\n")),
			err:   ErrAmbiguous,
			cands: []string{"overlays/prod/ingress.yaml#0:1", "overlays/staging/ingress.yaml#0:1"},
		},
		{
			name: "origin/generated ConfigMap", mapper: "kustomize",
			obj: obj("v1", "ConfigMap", "prod", "web-env-hf678c7m2b",
				origin("configuredIn: kustomization.yaml\nconfiguredBy:\n  apiVersion: builtin\n  kind: ConfigMapGenerator\n")),
			want:   &Location{Path: "overlays/prod", File: "overlays/prod/kustomization.yaml", Document: 0, Line: 11, Kind: KindKustomize, Via: ViaOrigin, Confidence: ConfidenceMedium},
			detail: []string{"ConfigMapGenerator", "generator entry for web-env-hf678c7m2b"},
		},
		{
			name: "origin/escapes from every root", mapper: "kustomize",
			obj: obj("apps/v1", "Deployment", "prod", "web", origin("path: ../../../../etc/passwd\n")),
			err: ErrEscapes,
		},
		{
			name: "origin/absolute", mapper: "kustomize",
			obj: obj("apps/v1", "Deployment", "prod", "web", origin("path: /etc/passwd\n")),
			err: ErrEscapes,
		},
		{
			name: "origin/malformed", mapper: "kustomize",
			obj: obj("apps/v1", "Deployment", "prod", "web", origin("path: [unclosed\n")),
			err: ErrUntrusted,
		},
		{
			name: "origin/remote repository not checked out", mapper: "kustomize",
			obj: obj("apps/v1", "Deployment", "prod", "web",
				origin("path: examples/helloWorld/deployment.yaml\nrepo: https://github.com/kubernetes-sigs/kustomize\nref: v1.0.6\n")),
			want: &Location{Repo: "https://github.com/kubernetes-sigs/kustomize", Ref: "v1.0.6", File: "examples/helloWorld/deployment.yaml",
				Kind: KindKustomize, Via: ViaOrigin, Confidence: ConfidenceHigh},
			detail: []string{"not checked out"},
		},
		{
			// Without metadata a search must not offer the overlay's patch.
			name: "search/patch files are not sources", mapper: "kustomize",
			obj:  obj("apps/v1", "Deployment", "prod", "web"),
			want: &Location{File: "base/deployment.yaml", Document: 0, Line: 1, Kind: KindKustomize, Via: ViaSearch, Confidence: ConfidenceLow},
		},
		{
			// The root is known from the Argo CD Application.
			name: "origin/root from the Argo CD Application", mapper: "gitops",
			obj: obj("networking.k8s.io/v1", "Ingress", "prod", "web",
				ann("config.kubernetes.io/origin", "path: ingress.yaml\n", "argocd.argoproj.io/tracking-id", "web-prod:networking.k8s.io/Ingress:prod/web")),
			want: &Location{Repo: kustomizeURL, Ref: "main", Path: "overlays/prod", File: "overlays/prod/ingress.yaml", Document: 0, Line: 1,
				Kind: KindKustomize, Via: ViaOrigin, Confidence: ConfidenceHigh},
			detail: []string{"from root overlays/prod (argocd tracking-id web-prod:networking.k8s.io/Ingress:prod/web → Application argocd/web-prod)"},
		},
	}
	runCases(t, ms, cases)
}

func TestLocateArgoCD(t *testing.T) {
	ms := mappers(t)
	cases := []locateCase{
		{
			name: "tracking-id/deployment", mapper: "gitops",
			obj: obj("apps/v1", "Deployment", "shop", "web", tracking("web:apps/Deployment:shop/web"), labels("app", "web")),
			want: &Location{Repo: gitopsURL, Ref: "main", Path: "workloads/web", File: "workloads/web/web.yaml", Document: 0, Line: 2,
				Kind: KindPlain, Via: ViaArgoCD, Confidence: ConfidenceMedium},
			detail: []string{"argocd tracking-id web:apps/Deployment:shop/web → Application argocd/web → path workloads/web"},
		},
		{
			name: "tracking-id/core group", mapper: "gitops",
			obj: obj("v1", "Service", "shop", "web", tracking("web:/Service:shop/web")),
			want: &Location{Repo: gitopsURL, Ref: "main", Path: "workloads/web", File: "workloads/web/web.yaml", Document: 1, Line: 19,
				Kind: KindPlain, Via: ViaArgoCD, Confidence: ConfidenceMedium},
		},
		{
			name: "tracking-id/appns_app form", mapper: "gitops",
			obj: obj("apps/v1", "Deployment", "team-a", "api", tracking("team-a_api:apps/Deployment:team-a/api")),
			want: &Location{Repo: gitopsURL, Ref: "main", Path: "workloads/api", File: "workloads/api/api.yaml", Document: 0, Line: 1,
				Kind: KindPlain, Via: ViaArgoCD, Confidence: ConfidenceMedium},
			detail: []string{"Application team-a/api"},
		},
		{
			name: "tracking-id/appns_app in the wrong namespace", mapper: "gitops",
			obj: obj("apps/v1", "Deployment", "team-a", "api", tracking("team-b_api:apps/Deployment:team-a/api")),
			err: ErrNotFound,
		},
		{
			name: "tracking-id/names another object", mapper: "gitops",
			obj:    obj("apps/v1", "Deployment", "shop", "web", tracking("web:apps/Deployment:shop/api")),
			err:    ErrUntrusted,
			detail: []string{"names apps/Deployment shop/api, not this object"},
		},
		{
			name: "tracking-id/names another kind", mapper: "gitops",
			obj: obj("apps/v1", "Deployment", "shop", "web", tracking("web:/Service:shop/web")),
			err: ErrUntrusted,
		},
		{
			name: "tracking-id/names another namespace", mapper: "gitops",
			obj: obj("apps/v1", "Deployment", "shop", "web", tracking("web:apps/Deployment:default/web")),
			err: ErrUntrusted,
		},
		{
			name: "tracking-id/malformed", mapper: "gitops",
			obj: obj("apps/v1", "Deployment", "shop", "web", tracking("web;apps/Deployment/shop/web")),
			err: ErrUntrusted,
		},
		{
			name: "tracking-id/missing app", mapper: "gitops",
			obj:    obj("apps/v1", "Deployment", "shop", "web", tracking("ghost:apps/Deployment:shop/web")),
			err:    ErrNotFound,
			detail: []string{"names Application ghost, which is not known"},
		},
		{
			name: "tracking-id/object not in the app's path", mapper: "gitops",
			obj: obj("apps/v1", "Deployment", "shop", "cart", tracking("web:apps/Deployment:shop/cart")),
			err: ErrNotFound,
		},
		{
			name: "tracking-id/cluster-scoped with the destination namespace", mapper: "gitops",
			obj: obj("rbac.authorization.k8s.io/v1", "ClusterRole", "", "platform-reader",
				tracking("platform:rbac.authorization.k8s.io/ClusterRole:platform/platform-reader")),
			want: &Location{Repo: gitopsURL, Ref: "main", Path: "workloads/platform", File: "workloads/platform/rbac.yaml", Document: 0, Line: 1,
				Kind: KindPlain, Via: ViaArgoCD, Confidence: ConfidenceMedium},
		},
		{
			name: "tracking-id/two equal candidates", mapper: "gitops",
			obj:   obj("apps/v1", "Deployment", "twins", "twin", tracking("twins:apps/Deployment:twins/twin")),
			err:   ErrAmbiguous,
			cands: []string{gitopsURL + "@main//workloads/twins/twin-a.yaml#0:2", gitopsURL + "@main//workloads/twins/twin-b.yaml#0:2"},
		},
		{
			name: "label fallback", mapper: "gitops",
			obj: obj("apps/v1", "Deployment", "shop", "web", labels("app.kubernetes.io/instance", "web")),
			want: &Location{Repo: gitopsURL, Ref: "main", Path: "workloads/web", File: "workloads/web/web.yaml", Document: 0, Line: 2,
				Kind: KindPlain, Via: ViaArgoCD, Confidence: ConfidenceLow},
			detail: []string{"label app.kubernetes.io/instance=web → Application argocd/web"},
		},
		{
			// A Helm release name in the label is not an Application: search.
			name: "label naming no Application", mapper: "gitops",
			obj:  obj("v1", "ConfigMap", "platform", "platform-settings", labels("app.kubernetes.io/instance", "ingress")),
			want: &Location{Repo: gitopsURL, File: "workloads/platform/settings.yaml", Document: 0, Line: 1, Kind: KindPlain, Via: ViaSearch, Confidence: ConfidenceLow},
		},
		{
			name: "app-of-apps/child Application", mapper: "gitops",
			obj: obj("argoproj.io/v1alpha1", "Application", "argocd", "web", tracking("root:argoproj.io/Application:argocd/web")),
			want: &Location{Repo: gitopsURL, Ref: "main", Path: "apps", File: "apps/web.yaml", Document: 0, Line: 1,
				Kind: KindPlain, Via: ViaArgoCD, Confidence: ConfidenceMedium},
			detail: []string{"Application argocd/root → path apps"},
		},
		{
			name: "sources/plain path among several sources", mapper: "gitops",
			obj: obj("v1", "ConfigMap", "platform", "platform-settings", tracking("platform:/ConfigMap:platform/platform-settings")),
			want: &Location{Repo: gitopsURL, Ref: "main", Path: "workloads/platform", File: "workloads/platform/settings.yaml", Document: 0, Line: 1,
				Kind: KindPlain, Via: ViaArgoCD, Confidence: ConfidenceMedium},
		},
		{
			name: "sources/chart with a $values file", mapper: "gitops",
			obj: obj("apps/v1", "Deployment", "platform", "ingress-ingress-nginx-controller",
				tracking("platform:apps/Deployment:platform/ingress-ingress-nginx-controller")),
			want: &Location{Repo: "https://charts.example.com/stable", Ref: "4.11.0", Kind: KindHelm, Via: ViaArgoCD, Confidence: ConfidenceMedium,
				ValuesFiles: []string{gitopsURL + "//values/ingress-nginx.yaml?ref=main"}},
			detail: []string{"chart ingress-nginx 4.11.0 from https://charts.example.com/stable"},
		},
		{
			name: "helm chart in the repository", mapper: "gitops",
			obj: obj("apps/v1", "Deployment", "monitoring", "monitoring-agent", tracking("monitoring:apps/Deployment:monitoring/monitoring-agent")),
			want: &Location{Repo: gitopsURL, Ref: "main", Path: "charts/monitoring", Kind: KindHelm, Via: ViaArgoCD, Confidence: ConfidenceMedium,
				ValuesFiles: []string{"charts/monitoring/values.yaml", "charts/monitoring/values-prod.yaml"},
				Template:    "charts/monitoring/templates/deployment.yaml"},
			detail: []string{"Helm chart", "template charts/monitoring/templates/deployment.yaml"},
		},
		{
			name: "helm chart with inline values in the Application", mapper: "gitops",
			obj: obj("apps/v1", "Deployment", "monitoring", "dashboards-grafana", tracking("dashboards:apps/Deployment:monitoring/dashboards-grafana")),
			want: &Location{Repo: gitopsURL, Ref: "main", File: "apps/dashboards.yaml", Document: 0, Line: 2,
				Kind: KindArgoCDApplication, Via: ViaArgoCD, Confidence: ConfidenceMedium},
			detail: []string{"chart grafana 8.5.0", "inline values in Application argocd/dashboards, defined in apps/dashboards.yaml"},
		},
		{
			name: "foreign repository", mapper: "gitops",
			obj: obj("apps/v1", "Deployment", "vendor", "addon-operator", tracking("vendor:apps/Deployment:vendor/addon-operator")),
			want: &Location{Repo: "https://github.com/vendor-org/addons", Ref: "v3.1.0", Path: "deploy/addons",
				Kind: KindPlain, Via: ViaArgoCD, Confidence: ConfidenceMedium},
			detail: []string{"the source is in another repository (https://github.com/vendor-org/addons), not checked out"},
		},
		{
			name: "kustomize overlay in another checkout", mapper: "gitops",
			obj: obj("apps/v1", "Deployment", "staging", "staging-web", tracking("web-staging:apps/Deployment:staging/staging-web")),
			want: &Location{Repo: kustomizeURL, Ref: "main", Path: "overlays/staging", File: "base/deployment.yaml", Document: 0, Line: 1,
				Kind: KindKustomize, Via: ViaArgoCD, Confidence: ConfidenceMedium},
			detail: []string{"path overlays/staging (kustomize)"},
		},
		{
			name: "kustomize overlay ignores its patch", mapper: "gitops",
			obj: obj("apps/v1", "Deployment", "prod", "web", tracking("web-prod:apps/Deployment:prod/web")),
			want: &Location{Repo: kustomizeURL, Ref: "main", Path: "overlays/prod", File: "base/deployment.yaml", Document: 0, Line: 1,
				Kind: KindKustomize, Via: ViaArgoCD, Confidence: ConfidenceMedium},
		},
	}
	runCases(t, ms, cases)
}

func TestLocateFlux(t *testing.T) {
	ms := mappers(t)
	cases := []locateCase{
		{
			name: "kustomization/deployment", mapper: "gitops",
			obj: obj("apps/v1", "Deployment", "podinfo", "podinfo", fluxKS("apps", "flux-system")),
			want: &Location{Repo: fleetURL, Ref: "main", Path: "apps/prod", File: "apps/prod/podinfo/deployment.yaml", Document: 0, Line: 1,
				Kind: KindFluxKustomization, Via: ViaFlux, Confidence: ConfidenceMedium},
			detail: []string{"flux labels → Kustomization flux-system/apps → GitRepository flux-system/flux-system (" + fleetURL + ", branch main) → path apps/prod"},
		},
		{
			name: "kustomization/the Kustomization itself", mapper: "gitops",
			obj: obj("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "flux-system", "apps", fluxKS("flux-system", "flux-system")),
			want: &Location{Repo: fleetURL, Ref: "main", Path: "clusters/prod", File: "clusters/prod/apps.yaml", Document: 0, Line: 1,
				Kind: KindFluxKustomization, Via: ViaFlux, Confidence: ConfidenceMedium},
		},
		{
			name: "kustomization/missing", mapper: "gitops",
			obj: obj("apps/v1", "Deployment", "podinfo", "podinfo", fluxKS("gone", "flux-system")),
			err: ErrNotFound,
		},
		{
			name: "helmrelease/inline values", mapper: "gitops",
			obj: obj("apps/v1", "StatefulSet", "redis", "redis-master",
				labels("helm.toolkit.fluxcd.io/name", "redis", "helm.toolkit.fluxcd.io/namespace", "redis", "app.kubernetes.io/instance", "redis")),
			want: &Location{Repo: fleetURL, Ref: "main", File: "apps/prod/redis/release.yaml", Document: 1, Line: 10,
				Kind: KindFluxHelmRelease, Via: ViaFlux, Confidence: ConfidenceMedium},
			detail: []string{"HelmRelease redis/redis → chart redis 19.6.0 from HelmRepository redis/bitnami (external chart, no file) → inline values (spec.values) in apps/prod/redis/release.yaml"},
		},
		{
			// app.kubernetes.io/instance names an Argo CD Application too:
			// Flux's exact labels win over that hint.
			name: "helmrelease/wins over the instance label", mapper: "gitops",
			obj: obj("apps/v1", "StatefulSet", "redis", "redis-master",
				labels("helm.toolkit.fluxcd.io/name", "redis", "helm.toolkit.fluxcd.io/namespace", "redis", "app.kubernetes.io/instance", "web")),
			want: &Location{Repo: fleetURL, Ref: "main", File: "apps/prod/redis/release.yaml", Document: 1, Line: 10,
				Kind: KindFluxHelmRelease, Via: ViaFlux, Confidence: ConfidenceMedium},
		},
		{
			name: "helmrelease/chart in Git, commit wins", mapper: "gitops",
			obj: obj("apps/v1", "StatefulSet", "cache", "cache",
				labels("helm.toolkit.fluxcd.io/name", "cache", "helm.toolkit.fluxcd.io/namespace", "cache")),
			// The chart is read at the GitRepository's pinned commit, not
			// at the HelmRelease's branch: its files say so.
			want: &Location{Repo: fleetURL, Ref: "main", Path: "charts/cache", File: "apps/prod/cache/release.yaml", Document: 0, Line: 1,
				Kind: KindFluxHelmRelease, Via: ViaFlux, Confidence: ConfidenceMedium,
				ValuesFiles: []string{fleetURL + "//charts/cache/values.yaml?ref=6f1c2d3e4b5a69788796a5b4c3d2e1f0a9b8c7d6"},
				Template:    fleetURL + "//charts/cache/templates/statefulset.yaml?ref=6f1c2d3e4b5a69788796a5b4c3d2e1f0a9b8c7d6"},
			detail: []string{"chart charts/cache from GitRepository flux-system/fleet-pinned (" + fleetURL + ", commit 6f1c2d3e4b5a69788796a5b4c3d2e1f0a9b8c7d6)", "no inline values"},
		},
		{
			name: "helmrelease/missing", mapper: "gitops",
			obj: obj("apps/v1", "StatefulSet", "redis", "redis-master", labels("helm.toolkit.fluxcd.io/name", "valkey", "helm.toolkit.fluxcd.io/namespace", "redis")),
			err: ErrNotFound,
		},
	}
	runCases(t, ms, cases)
}

// hostileCheckout copies the plain fixture and adds symbolic links that
// lead out of it, next to a directory holding objects that must never be
// read.
func hostileCheckout(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	co := filepath.Join(base, "checkout")
	if err := os.CopyFS(co, os.DirFS(fixture("plain"))); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(base, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	secret := obj("apps/v1", "Deployment", "shop", "web") + "---\n" + obj("apps/v1", "Deployment", "shop", "outside-only")
	if err := os.WriteFile(filepath.Join(outside, "secret.yaml"), []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"apps/leak.yaml":  "../../outside/secret.yaml", // relative, out
		"linkdir":         "../outside",                // a directory out
		"apps/evil.yaml":  filepath.Join(outside, "secret.yaml"),
		"apps/alias.yaml": "web/deployment.yaml", // inside: allowed
		"apps/webdir":     "web",                 // inside: allowed
		"apps/loop":       "loop",
	}
	for l, target := range links {
		if err := os.Symlink(target, filepath.Join(co, filepath.FromSlash(l))); err != nil {
			t.Fatalf("symbolic link %s: %v", l, err)
		}
	}
	return co
}

func TestLocateHostilePaths(t *testing.T) {
	co := hostileCheckout(t)
	app := func(name, path string) string {
		return fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: %s
  namespace: argocd
spec:
  source:
    repoURL: https://github.com/kmend-fixtures/plain
    path: %q
  destination:
    namespace: shop
`, name, path)
	}
	var apps []*yaml.RNode
	for name, p := range map[string]string{"up": "../../etc", "abs": "/etc", "link": "linkdir", "inside": "apps/webdir"} {
		apps = append(apps, live(t, app(name, p)))
	}
	ks := live(t, `apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: out
  namespace: flux-system
spec:
  path: ./../outside
  sourceRef:
    kind: GitRepository
    name: plain
`)
	git := live(t, `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: plain
  namespace: flux-system
spec:
  url: https://github.com/kmend-fixtures/plain
`)
	hr := live(t, `apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: evil
  namespace: shop
spec:
  chart:
    spec:
      chart: ../../../etc
      sourceRef:
        kind: GitRepository
        name: plain
        namespace: flux-system
`)
	ms := map[string]*Mapper{"hostile": newMapper(t, Context{
		Applications:    apps,
		Kustomizations:  []*yaml.RNode{ks},
		GitRepositories: []*yaml.RNode{git},
		HelmReleases:    []*yaml.RNode{hr},
		Repos:           map[string]string{"https://github.com/kmend-fixtures/plain": co},
	})}
	web := "apps/web/deployment.yaml"
	cases := []locateCase{
		{name: "annotation/relative link out", mapper: "hostile",
			obj: obj("apps/v1", "Deployment", "shop", "web", ann(AnnotationFile, "apps/leak.yaml")), err: ErrEscapes},
		{name: "annotation/directory link out", mapper: "hostile",
			obj: obj("apps/v1", "Deployment", "shop", "web", ann(AnnotationFile, "linkdir/secret.yaml")), err: ErrEscapes},
		{name: "annotation/absolute link", mapper: "hostile",
			obj: obj("apps/v1", "Deployment", "shop", "web", ann(AnnotationFile, "apps/evil.yaml")), err: ErrEscapes},
		{name: "annotation/link loop", mapper: "hostile",
			obj: obj("apps/v1", "Deployment", "shop", "web", ann(AnnotationFile, "apps/loop/x.yaml")), err: ErrUntrusted},
		{name: "annotation/link inside", mapper: "hostile",
			obj:    obj("apps/v1", "Deployment", "shop", "web", ann(AnnotationFile, "apps/alias.yaml")),
			want:   &Location{Repo: "https://github.com/kmend-fixtures/plain", File: web, Line: 2, Kind: KindPlain, Via: ViaAnnotation, Confidence: ConfidenceHigh},
			detail: []string{"a symbolic link to " + web}},
		{name: "search/links are never followed", mapper: "hostile",
			obj:  obj("apps/v1", "Deployment", "shop", "web"),
			want: &Location{Repo: "https://github.com/kmend-fixtures/plain", File: web, Line: 2, Kind: KindPlain, Via: ViaSearch, Confidence: ConfidenceLow}},
		{name: "search/nothing read outside", mapper: "hostile",
			obj: obj("apps/v1", "Deployment", "shop", "outside-only"), err: ErrNotFound},
		{name: "argocd/path with dot-dot", mapper: "hostile",
			obj: obj("apps/v1", "Deployment", "shop", "web", tracking("up:apps/Deployment:shop/web")), err: ErrEscapes},
		{name: "argocd/absolute path", mapper: "hostile",
			obj: obj("apps/v1", "Deployment", "shop", "web", tracking("abs:apps/Deployment:shop/web")), err: ErrEscapes},
		{name: "argocd/path through a link out", mapper: "hostile",
			obj: obj("apps/v1", "Deployment", "shop", "web", tracking("link:apps/Deployment:shop/web")), err: ErrEscapes},
		{name: "argocd/path through a link inside", mapper: "hostile",
			obj: obj("apps/v1", "Deployment", "shop", "web", tracking("inside:apps/Deployment:shop/web")),
			want: &Location{Repo: "https://github.com/kmend-fixtures/plain", Path: "apps/webdir", File: web, Line: 2,
				Kind: KindPlain, Via: ViaArgoCD, Confidence: ConfidenceMedium}},
		{name: "flux/path out", mapper: "hostile",
			obj: obj("apps/v1", "Deployment", "shop", "web", fluxKS("out", "flux-system")), err: ErrEscapes},
		{name: "flux/chart path out", mapper: "hostile",
			obj: obj("apps/v1", "Deployment", "shop", "web", labels("helm.toolkit.fluxcd.io/name", "evil", "helm.toolkit.fluxcd.io/namespace", "shop")), err: ErrEscapes},
		{name: "origin/link out", mapper: "hostile",
			obj: obj("apps/v1", "Deployment", "shop", "web",
				ann("config.kubernetes.io/origin", "path: leak.yaml\n", "argocd.argoproj.io/tracking-id", "inside:apps/Deployment:shop/web")),
			err: ErrNotFound}, // apps/webdir/leak.yaml does not exist
		{name: "origin/root through a link, file out", mapper: "hostile",
			obj: obj("apps/v1", "Deployment", "shop", "web",
				ann("config.kubernetes.io/origin", "path: ../leak.yaml\n", "argocd.argoproj.io/tracking-id", "inside:apps/Deployment:shop/web")),
			err: ErrEscapes},
	}
	runCases(t, ms, cases)
}

func TestRepoSpellings(t *testing.T) {
	spellings := []string{
		"git@github.com:kmend-fixtures/gitops.git",
		"https://github.com/kmend-fixtures/gitops",
		"https://ci:ghp_token@github.com/kmend-fixtures/gitops.git",
	}
	for _, key := range spellings {
		for _, src := range spellings {
			t.Run(key+" ← "+src, func(t *testing.T) {
				a := live(t, fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
  namespace: argocd
spec:
  source:
    repoURL: %s
    targetRevision: main
    path: workloads/web
  destination:
    namespace: shop
`, src))
				m := newMapper(t, Context{Applications: []*yaml.RNode{a}, Repos: map[string]string{key: fixture("argocd")}})
				res := m.Locate(live(t, obj("apps/v1", "Deployment", "shop", "web", tracking("web:apps/Deployment:shop/web"))))
				if res.Err != nil {
					t.Fatal(res.Err)
				}
				if res.Location.Repo != gitopsURL || res.Location.File != "workloads/web/web.yaml" {
					t.Errorf("location %+v", res.Location)
				}
				if dir, ok := m.Checkout(res.Location.Repo); !ok || !strings.HasSuffix(dir, filepath.Join("fixtures", "sourcemap", "argocd")) {
					t.Errorf("Checkout(%q) = %q, %v", res.Location.Repo, dir, ok)
				}
			})
		}
	}
}

func TestNormalizeRepoURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"git@github.com:o/r.git", "https://github.com/o/r"},
		{"https://github.com/o/r", "https://github.com/o/r"},
		{"https://user:token@github.com/o/r.git", "https://github.com/o/r"},
		{"https://GitHub.com/o/r/", "https://github.com/o/r"},
		{"ssh://git@github.com:22/o/r.git", "https://github.com/o/r"},
		{"git://github.com/o/r", "https://github.com/o/r"},
		{"http://gitea.local:80/o/r.git", "https://gitea.local/o/r"},
		{"https://gitea.local:3000/o/r", "https://gitea.local:3000/o/r"},
		{"github.com/o/r", "https://github.com/o/r"},
		{"https://dev.azure.com/org/proj/_git/repo?version=GBmain", "https://dev.azure.com/org/proj/_git/repo"},
		{"oci://ghcr.io/org/charts", "oci://ghcr.io/org/charts"},
		{"", ""},
	} {
		if got := NormalizeRepoURL(tc.in); got != tc.want {
			t.Errorf("NormalizeRepoURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseTrackingID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want trackingID
		ok   bool
	}{
		{"app:apps/Deployment:ns/name", trackingID{"app", "apps", "Deployment", "ns", "name"}, true},
		{"app:/Service:ns/name", trackingID{"app", "", "Service", "ns", "name"}, true},
		{"ns_app:rbac.authorization.k8s.io/ClusterRole:/name", trackingID{"ns_app", "rbac.authorization.k8s.io", "ClusterRole", "", "name"}, true},
		{"app:rbac.authorization.k8s.io/ClusterRole:/system:aggregate-to-view", trackingID{"app", "rbac.authorization.k8s.io", "ClusterRole", "", "system:aggregate-to-view"}, true},
		{"app;apps/Deployment/ns/name", trackingID{}, false},
		{":apps/Deployment:ns/name", trackingID{}, false},
		{"app:Deployment:ns/name", trackingID{}, false},
		{"app:apps/Deployment:name", trackingID{}, false},
	} {
		got, err := parseTrackingID(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseTrackingID(%q) = %+v, %v", tc.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrUntrusted) {
			t.Errorf("parseTrackingID(%q): %v is not ErrUntrusted", tc.in, err)
		}
	}
}

func TestNewMapperErrors(t *testing.T) {
	notApp := live(t, obj("apps/v1", "Deployment", "shop", "web"))
	for _, tc := range []struct {
		name string
		ctx  Context
		want string
	}{
		{"missing checkout", Context{Repos: map[string]string{"": filepath.Join(t.TempDir(), "nope")}}, "checkout"},
		{"checkout is a file", Context{Repos: map[string]string{"": filepath.Join(fixture("plain"), "README.md")}}, "not a directory"},
		{"one repository, two checkouts", Context{Repos: map[string]string{
			"git@github.com:o/r.git": fixture("plain"), "https://github.com/o/r": fixture("flux")}}, "given twice"},
		{"not an Application", Context{Applications: []*yaml.RNode{notApp}}, "not an argoproj.io Application"},
		{"not a Kustomization", Context{Kustomizations: []*yaml.RNode{notApp}}, "not a kustomize.toolkit.fluxcd.io Kustomization"},
		{"not a GitRepository", Context{GitRepositories: []*yaml.RNode{notApp}}, "not a source.toolkit.fluxcd.io GitRepository"},
		{"not a HelmRelease", Context{HelmReleases: []*yaml.RNode{notApp}}, "not a helm.toolkit.fluxcd.io HelmRelease"},
		{"nil node", Context{Applications: []*yaml.RNode{nil}}, "not an argoproj.io Application"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewMapper(tc.ctx)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewMapper: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestDefaultCheckout(t *testing.T) {
	// One repository and no "" key: it is the default, and searches report
	// its URL.
	m := newMapper(t, Context{Repos: map[string]string{"https://github.com/kmend-fixtures/plain.git": fixture("plain")}})
	res := m.Locate(live(t, obj("apps/v1", "Deployment", "shop", "web")))
	if res.Err != nil || res.Location.Repo != "https://github.com/kmend-fixtures/plain" {
		t.Fatalf("%+v %v", res.Location, res.Err)
	}
	// No checkout at all: nothing to search.
	m = newMapper(t, Context{})
	if res := m.Locate(live(t, obj("apps/v1", "Deployment", "shop", "web"))); !errors.Is(res.Err, ErrNotFound) {
		t.Fatalf("err = %v", res.Err)
	}
}

// TestLocateConcurrent locates from many goroutines at once on a fresh
// Mapper: the lazy index is built once and Locate is safe (run with -race).
func TestLocateConcurrent(t *testing.T) {
	m := mappers(t)["gitops"]
	objs := []*yaml.RNode{
		live(t, obj("apps/v1", "Deployment", "shop", "web", tracking("web:apps/Deployment:shop/web"))),
		live(t, obj("apps/v1", "Deployment", "podinfo", "podinfo", fluxKS("apps", "flux-system"))),
		live(t, obj("apps/v1", "Deployment", "staging", "staging-web", tracking("web-staging:apps/Deployment:staging/staging-web"))),
		live(t, obj("v1", "ConfigMap", "platform", "platform-settings")),
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 16 {
		wg.Go(func() {
			for _, o := range objs {
				if r := m.Locate(o); r.Err != nil {
					errs <- r.Err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestArgoAppNameInTwoNamespaces: a tracking-id without a namespace prefix
// names the Application in Argo CD's own namespace; without knowing which
// that is, both are candidates.
func TestArgoAppNameInTwoNamespaces(t *testing.T) {
	app := func(ns, rev string) *yaml.RNode {
		return live(t, fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
  namespace: %s
spec:
  source:
    repoURL: %s
    targetRevision: %s
    path: workloads/web
  destination:
    namespace: shop
`, ns, gitopsURL, rev))
	}
	ctx := Context{
		Applications: []*yaml.RNode{app("argocd", "main"), app("team-b", "v2")},
		Repos:        map[string]string{gitopsURL: fixture("argocd")},
	}
	o := live(t, obj("apps/v1", "Deployment", "shop", "web", tracking("web:apps/Deployment:shop/web")))
	res := newMapper(t, ctx).Locate(o)
	check(t, res, locateCase{err: ErrAmbiguous, cands: []string{
		gitopsURL + "@main//workloads/web/web.yaml#0:2", gitopsURL + "@v2//workloads/web/web.yaml#0:2"}})

	ctx.ArgoCDNamespace = "argocd"
	res = newMapper(t, ctx).Locate(o)
	check(t, res, locateCase{want: &Location{Repo: gitopsURL, Ref: "main", Path: "workloads/web", File: "workloads/web/web.yaml", Line: 2,
		Kind: KindPlain, Via: ViaArgoCD, Confidence: ConfidenceMedium}, detail: []string{"Application argocd/web"}})

	// The team-b_web form needs no help.
	o = live(t, obj("apps/v1", "Deployment", "shop", "web", tracking("team-b_web:apps/Deployment:shop/web")))
	check(t, newMapper(t, ctx).Locate(o), locateCase{want: &Location{Repo: gitopsURL, Ref: "v2", Path: "workloads/web", File: "workloads/web/web.yaml", Line: 2,
		Kind: KindPlain, Via: ViaArgoCD, Confidence: ConfidenceMedium}})
}
