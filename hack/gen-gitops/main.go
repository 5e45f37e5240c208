// Command gen-gitops writes the source-mapping scale scenario: a GitOps
// repository and a matching snapshot of the live cluster it deploys, both
// deterministic (the same flags and seed always give the same bytes).
//
//	go run ./hack/gen-gitops -out DIR [-objects 50000] [-files N] [-kustomizations N] [-seed 1]
//	go run ./hack/gen-gitops check DIR/expect.tsv REPORT.json
//
// DIR/repo is the repository: -files files (default objects/5), of which
// -kustomizations kustomizations (default objects/100): one app per five,
// each a base of ten workloads (a Deployment file and a Service file each)
// and four overlays (dev, staging, prod, prod-eu) setting a namespace, most
// a namePrefix, and two patches (replicas.yaml by name, security.yaml by
// target). The rest are plain manifests (a Deployment and its Service per
// file) in directories of about fifty files, the Argo CD Applications
// (argocd/, an app-of-apps root included) and the Flux objects
// (clusters/prod/) that deploy overlays and plain directories.
//
// DIR/live holds what `kubectl get deploy,rs,pods,svc -n NS -o yaml` shows
// for each namespace (a List per file, kubectl's key order and layout):
// every Deployment with its ReplicaSet (sometimes an old one scaled to
// zero) and its Pods, with the server-set fields and status a cluster
// shows, and its Service; argocd.yaml and flux-system.yaml hold the
// Applications, Kustomizations and GitRepository. There are exactly
// -objects live objects. Each deployed unit is tracked one way: Argo CD's
// tracking-id annotation (some with kustomize's origin annotation too,
// buildMetadata: [originAnnotations]), Argo CD's instance label, Flux's
// kustomize.toolkit.fluxcd.io labels (some with origin annotations),
// origin annotations only (kustomize build | kubectl apply), kmend's own
// source.kmend.dev annotations, or nothing at all (kubectl apply; found
// by search).
//
// DIR/expect.tsv lists, for every live Deployment, the file and document
// that define it and the route kmend should take; `check` compares a
// `kmend locate -o json` report with it and prints
// "located=N correct=N wrong=N missing=N via=argocd:N,...".
//
// It uses the standard library only.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// RepoURL is the repository's URL, as Argo CD and Flux name it.
const RepoURL = "https://github.com/kmend-bench/gitops"

const (
	perBase  = 10 // workloads per base
	perPlain = 50 // files per plain directory, about
)

var (
	envs       = []string{"dev", "staging", "prod", "prod-eu"}
	envPrefix  = map[string]string{"dev": "dev-", "staging": "stg-", "prod": "", "prod-eu": "eu-"}
	teams      = []string{"web", "payments", "search", "platform", "data", "identity", "mobile", "ml"}
	components = []string{"api", "worker", "gateway", "cache", "indexer", "frontend", "billing", "auth", "notifier", "ingest", "reports", "scheduler"}
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "check" {
		if len(os.Args) != 4 {
			fmt.Fprintln(os.Stderr, "usage: gen-gitops check EXPECT.tsv REPORT.json")
			os.Exit(2)
		}
		s, err := check(os.Args[2], os.Args[3])
		if s != "" {
			fmt.Println(s)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen-gitops:", err)
			os.Exit(1)
		}
		return
	}
	out := flag.String("out", "", "directory to write repo/, live/ and expect.tsv into (created; must be empty or absent)")
	objects := flag.Int("objects", 50000, "live objects")
	files := flag.Int("files", 0, "repository files (default objects/5)")
	kusts := flag.Int("kustomizations", 0, "kustomizations, a multiple of 5 (default objects/100)")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if *files == 0 {
		*files = *objects / 5
	}
	if *kusts == 0 {
		*kusts = *objects / 100
	}
	if *out == "" || *objects < 1 || *kusts < 5 || *kusts%5 != 0 {
		fmt.Fprintln(os.Stderr, "usage: gen-gitops -out DIR [-objects 50000] [-files N] [-kustomizations N (a multiple of 5, at least 5)] [-seed 1]")
		os.Exit(2)
	}
	if entries, err := os.ReadDir(*out); err == nil && len(entries) > 0 {
		fmt.Fprintf(os.Stderr, "gen-gitops: %s is not empty\n", *out)
		os.Exit(2)
	}
	st, err := generate(*out, config{objects: *objects, files: *files, kusts: *kusts, seed: *seed})
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen-gitops:", err)
		os.Exit(1)
	}
	fmt.Println(st)
}

type config struct {
	objects, files, kusts int
	seed                  uint64
}

// tracking says how the objects of a unit tell where they come from.
type tracking int

const (
	trackArgoID    tracking = iota // argocd.argoproj.io/tracking-id
	trackArgoLabel                 // app.kubernetes.io/instance
	trackFlux                      // kustomize.toolkit.fluxcd.io labels
	trackOrigin                    // config.kubernetes.io/origin only
	trackNone                      // nothing: found by search
)

// workload is a Deployment and its Service, as the repository defines them.
type workload struct {
	name    string // in the repository
	app     string // app.kubernetes.io/part-of
	image   string
	sec     int // security variant
	res     int // resources variant
	file    string
	svcFile string
	svcDoc  int
	replica int // replicas in the file
}

// unit is what one apply deploys: an overlay or a plain directory.
type unit struct {
	overlay bool
	dir     string
	ns      string
	prefix  string
	track   tracking
	origin  bool   // objects carry config.kubernetes.io/origin
	kmend   bool   // objects carry source.kmend.dev annotations
	nsFile  bool   // plain files set their namespace
	appName string // Argo CD Application or Flux Kustomization
	wls     []*workload
}

type stats struct {
	files, kusts, objects, deployments, units int
	repoBytes, liveBytes                      int64
	liveFiles                                 int
	byTrack                                   [5]int
}

func (s stats) String() string {
	return fmt.Sprintf("objects=%d files=%d kustomizations=%d deployments=%d units=%d live-files=%d repo-bytes=%d live-bytes=%d argocd-id=%d argocd-label=%d flux=%d origin=%d none=%d",
		s.objects, s.files, s.kusts, s.deployments, s.units, s.liveFiles, s.repoBytes, s.liveBytes,
		s.byTrack[trackArgoID], s.byTrack[trackArgoLabel], s.byTrack[trackFlux], s.byTrack[trackOrigin], s.byTrack[trackNone])
}

type gen struct {
	cfg   config
	r     *rand.Rand
	out   string
	st    stats
	units []*unit
	uid   int
}

func generate(out string, cfg config) (stats, error) {
	g := &gen{cfg: cfg, r: rand.New(rand.NewPCG(cfg.seed, 0x6769746f7073)), out: out} // "gitops"
	if err := g.plan(); err != nil {
		return g.st, err
	}
	if err := g.writeRepo(); err != nil {
		return g.st, err
	}
	if err := g.writeLive(); err != nil {
		return g.st, err
	}
	return g.st, nil
}

func (g *gen) pct(p int) bool { return g.r.IntN(100) < p }

// plan decides every unit, workload and file.
func (g *gen) plan() error {
	apps := g.cfg.kusts / 5
	kustFiles := apps * (2*perBase + 1 + len(envs)*3)
	// Overlays.
	for a := range apps {
		team := teams[a%len(teams)]
		app := fmt.Sprintf("%s-%03d", team, a)
		base := "apps/" + app + "/base"
		var wls []*workload
		comps := slices.Clone(components)
		g.r.Shuffle(len(comps), func(i, j int) { comps[i], comps[j] = comps[j], comps[i] })
		for _, c := range comps[:perBase] {
			wls = append(wls, g.workload(app+"-"+c, app, team, c, base+"/"+c+"-deployment.yaml", base+"/"+c+"-service.yaml", 0))
		}
		slices.SortFunc(wls, func(a, b *workload) int { return strings.Compare(a.name, b.name) })
		for _, env := range envs {
			u := &unit{overlay: true, dir: "apps/" + app + "/overlays/" + env, ns: app + "-" + env, prefix: envPrefix[env], wls: wls}
			switch x := g.r.IntN(100); {
			case x < 25:
				u.track, u.origin = trackArgoID, g.pct(50)
			case x < 35:
				u.track = trackArgoLabel
			case x < 65:
				u.track, u.origin = trackFlux, g.pct(50)
			case x < 85:
				u.track, u.origin = trackOrigin, true
			default:
				u.track, u.prefix = trackNone, "" // a search finds names as written
			}
			u.appName = app + "-" + env
			g.units = append(g.units, u)
		}
	}
	// Plain directories: as many as fit about perPlain files each.
	gitops := 2 // argocd/root.yaml, clusters/prod/flux-system/gotk-sync.yaml
	for _, u := range g.units {
		if u.track != trackOrigin && u.track != trackNone {
			gitops++
		}
	}
	left := g.cfg.files - kustFiles - gitops
	ndirs := max(1, (left+perPlain/2)/(perPlain+1))
	var plain []*unit
	for d := range ndirs {
		team := teams[d%len(teams)]
		dir := fmt.Sprintf("%s-%03d", team, d)
		u := &unit{dir: "platform/" + dir, ns: dir, appName: "platform-" + dir}
		switch x := g.r.IntN(100); {
		case x < 30:
			u.track, u.nsFile = trackArgoID, g.pct(50)
		case x < 35:
			u.track = trackArgoLabel
		case x < 65:
			u.track, u.nsFile = trackFlux, true
		default:
			u.track, u.nsFile, u.kmend = trackNone, true, g.pct(30)
		}
		if u.track != trackNone {
			gitops++
		}
		plain = append(plain, u)
	}
	left = g.cfg.files - kustFiles - gitops
	if left < ndirs {
		return fmt.Errorf("%d files are too few for %d kustomizations (at least %d)", g.cfg.files, g.cfg.kusts, kustFiles+gitops+ndirs)
	}
	n := 0
	for d, u := range plain {
		size := left / ndirs
		if d < left%ndirs {
			size++
		}
		team := teams[d%len(teams)]
		for range size {
			c := components[g.r.IntN(len(components))]
			f := fmt.Sprintf("%s/%s-%05d.yaml", u.dir, c, n)
			u.wls = append(u.wls, g.workload(fmt.Sprintf("%s-%s-%05d", team, c, n), u.ns, team, c, f, f, 1))
			n++
		}
		g.units = append(g.units, u)
	}
	g.st.files = kustFiles + gitops + left
	g.st.kusts = apps * 5
	g.st.units = len(g.units)
	return nil
}

func (g *gen) workload(name, app, team, comp, file, svcFile string, svcDoc int) *workload {
	return &workload{
		name: name, app: app,
		image:   fmt.Sprintf("registry.example.com/%s/%s:1.%d.%d", team, comp, g.r.IntN(30), g.r.IntN(10)),
		sec:     g.r.IntN(100),
		res:     g.r.IntN(100),
		file:    file,
		svcFile: svcFile,
		svcDoc:  svcDoc,
		replica: 1 + g.r.IntN(2),
	}
}

// ---- the repository ----------------------------------------------------------

// text writes indented lines.
type text struct{ b strings.Builder }

func (x *text) l(ind int, format string, a ...any) {
	for range ind {
		x.b.WriteByte(' ')
	}
	fmt.Fprintf(&x.b, format, a...)
	x.b.WriteByte('\n')
}

func (g *gen) write(rel string, data string) error {
	p := filepath.Join(g.out, "repo", filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	g.st.repoBytes += int64(len(data))
	return os.WriteFile(p, []byte(data), 0o644)
}

func (g *gen) writeRepo() error {
	written := map[string]bool{}
	count := 0
	put := func(rel, data string) error {
		if written[rel] {
			return fmt.Errorf("%s written twice", rel)
		}
		written[rel] = true
		count++
		return g.write(rel, data)
	}
	var argoApps, fluxKs []*unit
	for _, u := range g.units {
		if u.overlay {
			base := path.Dir(path.Dir(u.dir)) + "/base"
			if !written[base+"/kustomization.yaml"] {
				var k text
				k.l(0, "apiVersion: kustomize.config.k8s.io/v1beta1")
				k.l(0, "kind: Kustomization")
				k.l(0, "labels:")
				k.l(2, "- pairs:")
				k.l(6, "app.kubernetes.io/managed-by: kustomize")
				k.l(0, "resources:")
				for _, wl := range u.wls {
					k.l(2, "- %s", path.Base(wl.file))
					k.l(2, "- %s", path.Base(wl.svcFile))
				}
				if err := put(base+"/kustomization.yaml", k.b.String()); err != nil {
					return err
				}
				for _, wl := range u.wls {
					var d text
					d.l(0, "# %s: owned by the %s team", wl.name, strings.SplitN(wl.app, "-", 2)[0])
					deploymentFile(&d, wl, "")
					if err := put(wl.file, d.b.String()); err != nil {
						return err
					}
					var s text
					serviceFile(&s, wl, "")
					if err := put(wl.svcFile, s.b.String()); err != nil {
						return err
					}
				}
			}
			if err := g.overlay(put, u); err != nil {
				return err
			}
		} else {
			for _, wl := range u.wls {
				var d text
				ns := ""
				if u.nsFile {
					ns = u.ns
				}
				deploymentFile(&d, wl, ns)
				d.l(0, "---")
				serviceFile(&d, wl, ns)
				if err := put(wl.file, d.b.String()); err != nil {
					return err
				}
			}
		}
		switch u.track {
		case trackArgoID, trackArgoLabel:
			argoApps = append(argoApps, u)
		case trackFlux:
			fluxKs = append(fluxKs, u)
		}
	}
	for _, u := range argoApps {
		var a text
		application(&a, u, false)
		if err := put("argocd/apps/"+u.appName+".yaml", a.b.String()); err != nil {
			return err
		}
	}
	var root text
	rootApplication(&root, false)
	if err := put("argocd/root.yaml", root.b.String()); err != nil {
		return err
	}
	for _, u := range fluxKs {
		var k text
		fluxKustomization(&k, u.appName, "./"+u.dir, false)
		if err := put("clusters/prod/apps/"+u.appName+".yaml", k.b.String()); err != nil {
			return err
		}
	}
	var sync text
	gitRepository(&sync, false)
	sync.l(0, "---")
	fluxKustomization(&sync, "flux-system", "./clusters/prod", false)
	if err := put("clusters/prod/flux-system/gotk-sync.yaml", sync.b.String()); err != nil {
		return err
	}
	if count != g.st.files {
		return fmt.Errorf("wrote %d files, planned %d", count, g.st.files)
	}
	return nil
}

func (g *gen) overlay(put func(string, string) error, u *unit) error {
	env := path.Base(u.dir)
	var k text
	k.l(0, "# %s: %s", env, u.ns)
	k.l(0, "apiVersion: kustomize.config.k8s.io/v1beta1")
	k.l(0, "kind: Kustomization")
	k.l(0, "namespace: %s", u.ns)
	if u.prefix != "" {
		k.l(0, "namePrefix: %s", u.prefix)
	}
	if u.origin {
		k.l(0, "buildMetadata: [originAnnotations]")
	}
	k.l(0, "resources:")
	k.l(2, "- ../../base")
	k.l(0, "patches:")
	k.l(2, "- path: replicas.yaml")
	k.l(2, "# every Deployment of the base")
	k.l(2, "- path: security.yaml")
	k.l(4, "target:")
	k.l(6, "kind: Deployment")
	if err := put(u.dir+"/kustomization.yaml", k.b.String()); err != nil {
		return err
	}
	var r text
	r.l(0, "apiVersion: apps/v1")
	r.l(0, "kind: Deployment")
	r.l(0, "metadata:")
	r.l(2, "name: %s", u.wls[0].name)
	r.l(0, "spec:")
	r.l(2, "replicas: %d", map[string]int{"dev": 1, "staging": 1, "prod": 3, "prod-eu": 2}[env])
	if err := put(u.dir+"/replicas.yaml", r.b.String()); err != nil {
		return err
	}
	var s text
	s.l(0, "apiVersion: apps/v1")
	s.l(0, "kind: Deployment")
	s.l(0, "metadata:")
	s.l(2, "name: any")
	s.l(0, "spec:")
	s.l(2, "template:")
	s.l(4, "spec:")
	s.l(6, "securityContext:")
	if env == "dev" {
		s.l(8, "runAsNonRoot: false  # debugging images run as root")
	} else {
		s.l(8, "runAsNonRoot: true")
		s.l(8, "seccompProfile:")
		s.l(10, "type: RuntimeDefault")
	}
	return put(u.dir+"/security.yaml", s.b.String())
}

// deploymentFile writes a Deployment as a person writes it.
func deploymentFile(d *text, wl *workload, ns string) {
	d.l(0, "apiVersion: apps/v1")
	d.l(0, "kind: Deployment")
	d.l(0, "metadata:")
	d.l(2, "name: %s", wl.name)
	if ns != "" {
		d.l(2, "namespace: %s", ns)
	}
	d.l(2, "labels:")
	d.l(4, "app.kubernetes.io/name: %s", wl.name)
	d.l(4, "app.kubernetes.io/part-of: %s", wl.app)
	d.l(0, "spec:")
	d.l(2, "replicas: %d", wl.replica)
	d.l(2, "selector:")
	d.l(4, "matchLabels:")
	d.l(6, "app.kubernetes.io/name: %s", wl.name)
	d.l(2, "template:")
	d.l(4, "metadata:")
	d.l(6, "labels:")
	d.l(8, "app.kubernetes.io/name: %s", wl.name)
	d.l(8, "app.kubernetes.io/part-of: %s", wl.app)
	d.l(4, "spec:")
	d.l(6, "containers:")
	d.l(8, "- name: app")
	d.l(10, "image: %s", wl.image)
	d.l(10, "ports:")
	d.l(12, "- name: http")
	d.l(14, "containerPort: 8080")
	if wl.res < 60 {
		d.l(10, "resources:")
		d.l(12, "requests:")
		d.l(14, "cpu: 100m")
		d.l(14, "memory: 128Mi")
		if wl.res < 30 {
			d.l(12, "limits:")
			d.l(14, "memory: 512Mi")
		}
	}
	switch {
	case wl.sec < 30:
		d.l(10, "securityContext:")
		d.l(12, "allowPrivilegeEscalation: false")
		d.l(12, "readOnlyRootFilesystem: true")
		d.l(12, "capabilities:")
		d.l(14, "drop: [\"ALL\"]")
	case wl.sec < 55:
		d.l(10, "securityContext:")
		d.l(12, "allowPrivilegeEscalation: false")
	case wl.sec < 60:
		d.l(10, "securityContext:")
		d.l(12, "privileged: true  # needs the host's network stack")
	}
}

func serviceFile(d *text, wl *workload, ns string) {
	d.l(0, "apiVersion: v1")
	d.l(0, "kind: Service")
	d.l(0, "metadata:")
	d.l(2, "name: %s", wl.name)
	if ns != "" {
		d.l(2, "namespace: %s", ns)
	}
	d.l(2, "labels:")
	d.l(4, "app.kubernetes.io/name: %s", wl.name)
	d.l(0, "spec:")
	d.l(2, "selector:")
	d.l(4, "app.kubernetes.io/name: %s", wl.name)
	d.l(2, "ports:")
	d.l(4, "- name: http")
	d.l(6, "port: 80")
	d.l(6, "targetPort: http")
}

// application writes an Argo CD Application; live adds what the cluster
// adds (at the list item's indentation).
func application(a *text, u *unit, live bool) {
	i := 0
	if live {
		i = 2
		a.l(0, "- apiVersion: argoproj.io/v1alpha1")
	} else {
		a.l(0, "apiVersion: argoproj.io/v1alpha1")
	}
	a.l(i, "kind: Application")
	a.l(i, "metadata:")
	if live {
		a.l(i+2, "annotations:")
		a.l(i+4, "argocd.argoproj.io/tracking-id: root:argoproj.io/Application:argocd/%s", u.appName)
	}
	a.l(i+2, "name: %s", u.appName)
	a.l(i+2, "namespace: argocd")
	a.l(i, "spec:")
	a.l(i+2, "destination:")
	a.l(i+4, "namespace: %s", u.ns)
	a.l(i+4, "server: https://kubernetes.default.svc")
	a.l(i+2, "project: default")
	a.l(i+2, "source:")
	a.l(i+4, "path: %s", u.dir)
	a.l(i+4, "repoURL: %s.git", RepoURL)
	a.l(i+4, "targetRevision: main")
	a.l(i+2, "syncPolicy:")
	a.l(i+4, "automated:")
	a.l(i+6, "prune: true")
	if live {
		a.l(i, "status:")
		a.l(i+2, "health:")
		a.l(i+4, "status: Healthy")
		a.l(i+2, "sync:")
		a.l(i+4, "revision: 4f2d0c9a7e1b3c5d6e8f9a0b1c2d3e4f5a6b7c8d")
		a.l(i+4, "status: Synced")
	}
}

func rootApplication(a *text, live bool) {
	application(a, &unit{appName: "root", ns: "argocd", dir: "argocd/apps"}, live)
}

func fluxKustomization(k *text, name, p string, live bool) {
	i := 0
	if live {
		i = 2
		k.l(0, "- apiVersion: kustomize.toolkit.fluxcd.io/v1")
	} else {
		k.l(0, "apiVersion: kustomize.toolkit.fluxcd.io/v1")
	}
	k.l(i, "kind: Kustomization")
	k.l(i, "metadata:")
	if live && name != "flux-system" {
		k.l(i+2, "labels:")
		k.l(i+4, "kustomize.toolkit.fluxcd.io/name: flux-system")
		k.l(i+4, "kustomize.toolkit.fluxcd.io/namespace: flux-system")
	}
	k.l(i+2, "name: %s", name)
	k.l(i+2, "namespace: flux-system")
	k.l(i, "spec:")
	k.l(i+2, "interval: 10m0s")
	k.l(i+2, "path: %s", p)
	k.l(i+2, "prune: true")
	k.l(i+2, "sourceRef:")
	k.l(i+4, "kind: GitRepository")
	k.l(i+4, "name: flux-system")
	if live {
		k.l(i, "status:")
		k.l(i+2, "lastAppliedRevision: main@sha1:4f2d0c9a7e1b3c5d6e8f9a0b1c2d3e4f5a6b7c8d")
	}
}

func gitRepository(k *text, live bool) {
	i := 0
	if live {
		i = 2
		k.l(0, "- apiVersion: source.toolkit.fluxcd.io/v1")
	} else {
		k.l(0, "apiVersion: source.toolkit.fluxcd.io/v1")
	}
	k.l(i, "kind: GitRepository")
	k.l(i, "metadata:")
	k.l(i+2, "name: flux-system")
	k.l(i+2, "namespace: flux-system")
	k.l(i, "spec:")
	k.l(i+2, "interval: 1m0s")
	k.l(i+2, "ref:")
	k.l(i+4, "branch: main")
	k.l(i+2, "url: ssh://git@github.com/kmend-bench/gitops")
}

// ---- the live snapshot -------------------------------------------------------

// liveWorkload is one deployed Deployment with what its controllers made.
type liveWorkload struct {
	u      *unit
	wl     *workload
	name   string
	pods   int
	oldRS  bool
	origin string // the origin annotation's path
}

func (g *gen) writeLive() error {
	var lws []*liveWorkload
	gitopsObjects := 3 // root Application, GitRepository, flux-system Kustomization
	for _, u := range g.units {
		switch u.track {
		case trackArgoID, trackArgoLabel:
			gitopsObjects++
		case trackFlux:
			gitopsObjects++
		}
		g.st.byTrack[u.track] += len(u.wls)
		for _, wl := range u.wls {
			lw := &liveWorkload{u: u, wl: wl, name: u.prefix + wl.name, oldRS: g.pct(20)}
			if u.origin {
				rel, _ := filepath.Rel(filepath.FromSlash(u.dir), filepath.FromSlash(wl.file))
				lw.origin = filepath.ToSlash(rel)
			}
			lws = append(lws, lw)
		}
	}
	// Pods fill what is left to reach exactly the objects asked for.
	fixed := gitopsObjects
	for _, lw := range lws {
		fixed += 3 // Deployment, ReplicaSet, Service
		if lw.oldRS {
			fixed++
		}
	}
	pods := g.cfg.objects - fixed
	if pods < 0 {
		return fmt.Errorf("%d objects are too few for %d deployments (at least %d)", g.cfg.objects, len(lws), fixed)
	}
	order := g.r.Perm(len(lws))
	for i, j := range order {
		lws[j].pods = pods / len(lws)
		if i < pods%len(lws) {
			lws[j].pods++
		}
	}
	g.st.deployments = len(lws)
	g.st.objects = g.cfg.objects

	// One List per namespace, in the order the units were planned.
	if err := os.MkdirAll(filepath.Join(g.out, "live"), 0o755); err != nil {
		return err
	}
	var expect strings.Builder
	expect.WriteString("namespace\tname\tfile\tdocument\tvia\n")
	byNS := map[string][]*liveWorkload{}
	var nss []string
	for _, lw := range lws {
		if byNS[lw.u.ns] == nil {
			nss = append(nss, lw.u.ns)
		}
		byNS[lw.u.ns] = append(byNS[lw.u.ns], lw)
		fmt.Fprintf(&expect, "%s\t%s\t%s\t0\t%s\n", lw.u.ns, lw.name, lw.wl.file, expectedVia(lw))
	}
	count := 0
	for _, ns := range nss {
		b := &liveWriter{g: g}
		b.w.l(0, "apiVersion: v1")
		b.w.l(0, "items:")
		for _, x := range byNS[ns] {
			count += b.workload(x)
		}
		listEnd(&b.w)
		if err := g.writeLiveFile(ns+".yaml", b.w.b.String()); err != nil {
			return err
		}
	}
	// The GitOps objects.
	var argo, flux text
	argo.l(0, "apiVersion: v1")
	argo.l(0, "items:")
	for _, u := range g.units {
		if u.track == trackArgoID || u.track == trackArgoLabel {
			application(&argo, u, true)
			count++
		}
	}
	rootApplication(&argo, true)
	count++
	listEnd(&argo)
	flux.l(0, "apiVersion: v1")
	flux.l(0, "items:")
	gitRepository(&flux, true)
	fluxKustomization(&flux, "flux-system", "./clusters/prod", true)
	count += 2
	for _, u := range g.units {
		if u.track == trackFlux {
			fluxKustomization(&flux, u.appName, "./"+u.dir, true)
			count++
		}
	}
	listEnd(&flux)
	if err := g.writeLiveFile("argocd.yaml", argo.b.String()); err != nil {
		return err
	}
	if err := g.writeLiveFile("flux-system.yaml", flux.b.String()); err != nil {
		return err
	}
	if count != g.cfg.objects {
		return fmt.Errorf("wrote %d live objects, planned %d", count, g.cfg.objects)
	}
	return os.WriteFile(filepath.Join(g.out, "expect.tsv"), []byte(expect.String()), 0o644)
}

func (g *gen) writeLiveFile(name, data string) error {
	g.st.liveFiles++
	g.st.liveBytes += int64(len(data))
	return os.WriteFile(filepath.Join(g.out, "live", name), []byte(data), 0o644)
}

func listEnd(x *text) {
	x.l(0, "kind: List")
	x.l(0, "metadata:")
	x.l(2, "resourceVersion: \"\"")
}

// expectedVia is the route kmend locate should report for a workload.
func expectedVia(lw *liveWorkload) string {
	switch {
	case lw.u.kmend:
		return "annotation"
	case lw.origin != "":
		return "origin"
	}
	return [...]string{"argocd", "argocd", "flux", "origin", "search"}[lw.u.track]
}

// liveWriter writes live objects.
type liveWriter struct {
	g *gen
	w text
}

var epoch = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func (b *liveWriter) uid() string {
	b.g.uid++
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", b.g.r.Uint32(), b.g.r.IntN(1<<16), b.g.r.IntN(1<<12), b.g.r.IntN(1<<12), b.g.uid)
}

func (b *liveWriter) ts() string {
	return epoch.Add(time.Duration(b.g.r.IntN(90*24*3600)) * time.Second).Format(time.RFC3339)
}

const alnum = "bcdfghjklmnpqrstvwxz2456789"

func (b *liveWriter) suffix(n int) string {
	s := make([]byte, n)
	for i := range s {
		s[i] = alnum[b.g.r.IntN(len(alnum))]
	}
	return string(s)
}

func (b *liveWriter) hex(n int) string {
	s := make([]byte, n)
	for i := range s {
		s[i] = "0123456789abcdef"[b.g.r.IntN(16)]
	}
	return string(s)
}

// workload writes a Deployment, its ReplicaSets and Pods and its Service;
// it returns how many objects it wrote.
func (b *liveWriter) workload(x *liveWorkload) int {
	u, wl := x.u, x.wl
	d := &b.w
	depUID := b.uid()
	created := b.ts()
	rev := 1
	if x.oldRS {
		rev = 2 + b.g.r.IntN(5)
	}
	gen := rev
	// tracking metadata of the objects the apply created
	ann := func(ind int, kind, group string) {
		var lines [][2]string
		switch u.track {
		case trackArgoID:
			lines = append(lines, [2]string{"argocd.argoproj.io/tracking-id", fmt.Sprintf("%s:%s/%s:%s/%s", u.appName, group, kind, u.ns, x.name)})
		}
		if x.origin != "" {
			p := x.origin
			if kind == "Service" {
				p = path.Join(path.Dir(p), path.Base(wl.svcFile))
			}
			lines = append(lines, [2]string{"config.kubernetes.io/origin", "|\n" + strings.Repeat(" ", ind+4) + "path: " + p})
		}
		if kind == "Deployment" {
			lines = append(lines, [2]string{"deployment.kubernetes.io/revision", fmt.Sprintf("%q", fmt.Sprint(rev))})
		}
		if u.kmend {
			file, doc := wl.file, 0
			if kind == "Service" {
				file, doc = wl.svcFile, wl.svcDoc
			}
			lines = append(lines,
				[2]string{"source.kmend.dev/document", fmt.Sprintf("%q", fmt.Sprint(doc))},
				[2]string{"source.kmend.dev/file", file},
				[2]string{"source.kmend.dev/repo", RepoURL})
		}
		if len(lines) == 0 {
			return
		}
		sort.Slice(lines, func(i, j int) bool { return lines[i][0] < lines[j][0] })
		d.l(ind, "annotations:")
		for _, kv := range lines {
			d.l(ind+2, "%s: %s", kv[0], kv[1])
		}
	}
	labels := func(ind int, top bool, extra ...string) {
		ls := [][2]string{{"app.kubernetes.io/name", wl.name}, {"app.kubernetes.io/part-of", wl.app}}
		if top && u.overlay { // the base's labels: (metadata only)
			ls = append(ls, [2]string{"app.kubernetes.io/managed-by", "kustomize"})
		}
		if top {
			switch u.track {
			case trackArgoLabel:
				ls = append(ls, [2]string{"app.kubernetes.io/instance", u.appName})
			case trackFlux:
				ls = append(ls, [2]string{"kustomize.toolkit.fluxcd.io/name", u.appName}, [2]string{"kustomize.toolkit.fluxcd.io/namespace", "flux-system"})
			}
		}
		for i := 0; i+1 < len(extra); i += 2 {
			ls = append(ls, [2]string{extra[i], extra[i+1]})
		}
		sort.Slice(ls, func(i, j int) bool { return ls[i][0] < ls[j][0] })
		d.l(ind, "labels:")
		for _, kv := range ls {
			d.l(ind+2, "%s: %s", kv[0], kv[1])
		}
	}
	replicas := x.pods
	hash := b.suffix(10)

	// Deployment
	d.l(0, "- apiVersion: apps/v1")
	d.l(2, "kind: Deployment")
	d.l(2, "metadata:")
	ann(4, "Deployment", "apps")
	d.l(4, "creationTimestamp: \"%s\"", created)
	d.l(4, "generation: %d", gen)
	labels(4, true)
	d.l(4, "name: %s", x.name)
	d.l(4, "namespace: %s", u.ns)
	d.l(4, "resourceVersion: \"%d\"", 100000+b.g.r.IntN(9000000))
	d.l(4, "uid: %s", depUID)
	d.l(2, "spec:")
	d.l(4, "progressDeadlineSeconds: 600")
	d.l(4, "replicas: %d", replicas)
	d.l(4, "revisionHistoryLimit: 10")
	d.l(4, "selector:")
	d.l(6, "matchLabels:")
	d.l(8, "app.kubernetes.io/name: %s", wl.name)
	d.l(4, "strategy:")
	d.l(6, "rollingUpdate:")
	d.l(8, "maxSurge: 25%%")
	d.l(8, "maxUnavailable: 25%%")
	d.l(6, "type: RollingUpdate")
	d.l(4, "template:")
	d.l(6, "metadata:")
	d.l(8, "creationTimestamp: null")
	labels(8, false)
	d.l(6, "spec:")
	b.podSpec(8, x, "")
	d.l(2, "status:")
	if replicas > 0 {
		d.l(4, "availableReplicas: %d", replicas)
	}
	d.l(4, "conditions:")
	b.condition(4, "Available", "MinimumReplicasAvailable", "Deployment has minimum availability.", true)
	b.condition(4, "Progressing", "NewReplicaSetAvailable", fmt.Sprintf("ReplicaSet \"%s-%s\" has successfully progressed.", x.name, hash), true)
	d.l(4, "observedGeneration: %d", gen)
	if replicas > 0 {
		d.l(4, "readyReplicas: %d", replicas)
		d.l(4, "replicas: %d", replicas)
		d.l(4, "updatedReplicas: %d", replicas)
	}
	n := 1

	// ReplicaSets: the current one, and an old one scaled to zero.
	rsUID := b.uid()
	sets := []struct {
		hash, uid string
		replicas  int
		rev       int
	}{{hash, rsUID, replicas, rev}}
	if x.oldRS {
		sets = append(sets, struct {
			hash, uid string
			replicas  int
			rev       int
		}{b.suffix(10), b.uid(), 0, rev - 1})
	}
	for _, rs := range sets {
		d.l(0, "- apiVersion: apps/v1")
		d.l(2, "kind: ReplicaSet")
		d.l(2, "metadata:")
		d.l(4, "annotations:")
		d.l(6, "deployment.kubernetes.io/desired-replicas: \"%d\"", replicas)
		d.l(6, "deployment.kubernetes.io/max-replicas: \"%d\"", replicas+(replicas+3)/4)
		d.l(6, "deployment.kubernetes.io/revision: \"%d\"", rs.rev)
		d.l(4, "creationTimestamp: \"%s\"", b.ts())
		d.l(4, "generation: 1")
		labels(4, false, "pod-template-hash", rs.hash)
		d.l(4, "name: %s-%s", x.name, rs.hash)
		d.l(4, "namespace: %s", u.ns)
		b.owner(4, "apps/v1", "Deployment", x.name, depUID)
		d.l(4, "resourceVersion: \"%d\"", 100000+b.g.r.IntN(9000000))
		d.l(4, "uid: %s", rs.uid)
		d.l(2, "spec:")
		d.l(4, "replicas: %d", rs.replicas)
		d.l(4, "selector:")
		d.l(6, "matchLabels:")
		d.l(8, "app.kubernetes.io/name: %s", wl.name)
		d.l(8, "pod-template-hash: %s", rs.hash)
		d.l(4, "template:")
		d.l(6, "metadata:")
		d.l(8, "creationTimestamp: null")
		labels(8, false, "pod-template-hash", rs.hash)
		d.l(6, "spec:")
		b.podSpec(8, x, "")
		d.l(2, "status:")
		if rs.replicas > 0 {
			d.l(4, "availableReplicas: %d", rs.replicas)
			d.l(4, "fullyLabeledReplicas: %d", rs.replicas)
		}
		d.l(4, "observedGeneration: 1")
		if rs.replicas > 0 {
			d.l(4, "readyReplicas: %d", rs.replicas)
		}
		d.l(4, "replicas: %d", rs.replicas)
		n++
	}

	// Pods of the current ReplicaSet.
	for range x.pods {
		name := x.name + "-" + hash + "-" + b.suffix(5)
		start := b.ts()
		node := b.g.r.IntN(64)
		d.l(0, "- apiVersion: v1")
		d.l(2, "kind: Pod")
		d.l(2, "metadata:")
		d.l(4, "creationTimestamp: \"%s\"", start)
		d.l(4, "generateName: %s-%s-", x.name, hash)
		labels(4, false, "pod-template-hash", hash)
		d.l(4, "name: %s", name)
		d.l(4, "namespace: %s", u.ns)
		b.owner(4, "apps/v1", "ReplicaSet", x.name+"-"+hash, rsUID)
		d.l(4, "resourceVersion: \"%d\"", 100000+b.g.r.IntN(9000000))
		d.l(4, "uid: %s", b.uid())
		d.l(2, "spec:")
		b.podSpec(4, x, b.suffix(5))
		d.l(4, "nodeName: node-%03d", node)
		d.l(2, "status:")
		d.l(4, "conditions:")
		for _, c := range []string{"PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"} {
			d.l(4, "- lastProbeTime: null")
			d.l(6, "lastTransitionTime: \"%s\"", start)
			d.l(6, "status: \"True\"")
			d.l(6, "type: %s", c)
		}
		d.l(4, "containerStatuses:")
		d.l(4, "- containerID: containerd://%s", b.hex(64))
		d.l(6, "image: %s", wl.image)
		d.l(6, "imageID: %s@sha256:%s", strings.SplitN(wl.image, ":", 2)[0], b.hex(64))
		d.l(6, "lastState: {}")
		d.l(6, "name: app")
		d.l(6, "ready: true")
		d.l(6, "restartCount: %d", b.g.r.IntN(3))
		d.l(6, "started: true")
		d.l(6, "state:")
		d.l(8, "running:")
		d.l(10, "startedAt: \"%s\"", start)
		ip := fmt.Sprintf("10.0.%d.%d", node/4, 10+node%4)
		podIP := fmt.Sprintf("10.244.%d.%d", node, 2+b.g.r.IntN(250))
		d.l(4, "hostIP: %s", ip)
		d.l(4, "hostIPs:")
		d.l(4, "- ip: %s", ip)
		d.l(4, "phase: Running")
		d.l(4, "podIP: %s", podIP)
		d.l(4, "podIPs:")
		d.l(4, "- ip: %s", podIP)
		d.l(4, "qosClass: %s", map[bool]string{true: "Burstable", false: "BestEffort"}[wl.res < 60])
		d.l(4, "startTime: \"%s\"", start)
		n++
	}

	// Service
	d.l(0, "- apiVersion: v1")
	d.l(2, "kind: Service")
	d.l(2, "metadata:")
	ann(4, "Service", "")
	d.l(4, "creationTimestamp: \"%s\"", created)
	labels(4, true)
	d.l(4, "name: %s", x.name)
	d.l(4, "namespace: %s", u.ns)
	d.l(4, "resourceVersion: \"%d\"", 100000+b.g.r.IntN(9000000))
	d.l(4, "uid: %s", b.uid())
	d.l(2, "spec:")
	ip := fmt.Sprintf("10.96.%d.%d", b.g.r.IntN(256), 1+b.g.r.IntN(254))
	d.l(4, "clusterIP: %s", ip)
	d.l(4, "clusterIPs:")
	d.l(4, "- %s", ip)
	d.l(4, "internalTrafficPolicy: Cluster")
	d.l(4, "ipFamilies:")
	d.l(4, "- IPv4")
	d.l(4, "ipFamilyPolicy: SingleStack")
	d.l(4, "ports:")
	d.l(4, "- name: http")
	d.l(6, "port: 80")
	d.l(6, "protocol: TCP")
	d.l(6, "targetPort: http")
	d.l(4, "selector:")
	d.l(6, "app.kubernetes.io/name: %s", wl.name)
	d.l(4, "sessionAffinity: None")
	d.l(4, "type: ClusterIP")
	d.l(2, "status:")
	d.l(4, "loadBalancer: {}")
	return n + 1
}

func (b *liveWriter) owner(ind int, apiVersion, kind, name, uid string) {
	d := &b.w
	d.l(ind, "ownerReferences:")
	d.l(ind, "- apiVersion: %s", apiVersion)
	d.l(ind+2, "blockOwnerDeletion: true")
	d.l(ind+2, "controller: true")
	d.l(ind+2, "kind: %s", kind)
	d.l(ind+2, "name: %s", name)
	d.l(ind+2, "uid: %s", uid)
}

func (b *liveWriter) condition(ind int, typ, reason, msg string, status bool) {
	d := &b.w
	t := b.ts()
	d.l(ind, "- lastTransitionTime: \"%s\"", t)
	d.l(ind+2, "lastUpdateTime: \"%s\"", t)
	d.l(ind+2, "message: %s", msg)
	d.l(ind+2, "reason: %s", reason)
	d.l(ind+2, "status: \"%s\"", map[bool]string{true: "True", false: "False"}[status])
	d.l(ind+2, "type: %s", typ)
}

// podSpec writes a pod spec as the API server defaults it; token is the
// suffix of a Pod's service account token volume ("" for templates).
func (b *liveWriter) podSpec(ind int, x *liveWorkload, token string) {
	d, wl, u := &b.w, x.wl, x.u
	d.l(ind, "containers:")
	d.l(ind, "- image: %s", wl.image)
	d.l(ind+2, "imagePullPolicy: IfNotPresent")
	d.l(ind+2, "name: app")
	d.l(ind+2, "ports:")
	d.l(ind+2, "- containerPort: 8080")
	d.l(ind+4, "name: http")
	d.l(ind+4, "protocol: TCP")
	if wl.res < 60 {
		d.l(ind+2, "resources:")
		if wl.res < 30 {
			d.l(ind+4, "limits:")
			d.l(ind+6, "memory: 512Mi")
		}
		d.l(ind+4, "requests:")
		d.l(ind+6, "cpu: 100m")
		d.l(ind+6, "memory: 128Mi")
	} else {
		d.l(ind+2, "resources: {}")
	}
	switch {
	case wl.sec < 30:
		d.l(ind+2, "securityContext:")
		d.l(ind+4, "allowPrivilegeEscalation: false")
		d.l(ind+4, "capabilities:")
		d.l(ind+6, "drop:")
		d.l(ind+6, "- ALL")
		d.l(ind+4, "readOnlyRootFilesystem: true")
	case wl.sec < 55:
		d.l(ind+2, "securityContext:")
		d.l(ind+4, "allowPrivilegeEscalation: false")
	case wl.sec < 60:
		d.l(ind+2, "securityContext:")
		d.l(ind+4, "privileged: true")
	}
	d.l(ind+2, "terminationMessagePath: /dev/termination-log")
	d.l(ind+2, "terminationMessagePolicy: File")
	if token != "" {
		d.l(ind+2, "volumeMounts:")
		d.l(ind+2, "- mountPath: /var/run/secrets/kubernetes.io/serviceaccount")
		d.l(ind+4, "name: kube-api-access-%s", token)
		d.l(ind+4, "readOnly: true")
	}
	d.l(ind, "dnsPolicy: ClusterFirst")
	if token != "" {
		d.l(ind, "enableServiceLinks: true")
		d.l(ind, "preemptionPolicy: PreemptLowerPriority")
		d.l(ind, "priority: 0")
	}
	d.l(ind, "restartPolicy: Always")
	d.l(ind, "schedulerName: default-scheduler")
	if u.overlay {
		env := path.Base(u.dir)
		d.l(ind, "securityContext:")
		if env == "dev" {
			d.l(ind+2, "runAsNonRoot: false")
		} else {
			d.l(ind+2, "runAsNonRoot: true")
			d.l(ind+2, "seccompProfile:")
			d.l(ind+4, "type: RuntimeDefault")
		}
	} else {
		d.l(ind, "securityContext: {}")
	}
	if token != "" {
		d.l(ind, "serviceAccount: default")
		d.l(ind, "serviceAccountName: default")
	}
	d.l(ind, "terminationGracePeriodSeconds: 30")
	if token == "" {
		return
	}
	d.l(ind, "tolerations:")
	for _, k := range []string{"not-ready", "unreachable"} {
		d.l(ind, "- effect: NoExecute")
		d.l(ind+2, "key: node.kubernetes.io/%s", k)
		d.l(ind+2, "operator: Exists")
		d.l(ind+2, "tolerationSeconds: 300")
	}
	d.l(ind, "volumes:")
	d.l(ind, "- name: kube-api-access-%s", token)
	d.l(ind+2, "projected:")
	d.l(ind+4, "defaultMode: 420")
	d.l(ind+4, "sources:")
	d.l(ind+4, "- serviceAccountToken:")
	d.l(ind+8, "expirationSeconds: 3607")
	d.l(ind+8, "path: token")
	d.l(ind+4, "- configMap:")
	d.l(ind+8, "items:")
	d.l(ind+8, "- key: ca.crt")
	d.l(ind+10, "path: ca.crt")
	d.l(ind+8, "name: kube-root-ca.crt")
	d.l(ind+4, "- downwardAPI:")
	d.l(ind+8, "items:")
	d.l(ind+8, "- fieldRef:")
	d.l(ind+12, "apiVersion: v1")
	d.l(ind+12, "fieldPath: metadata.namespace")
	d.l(ind+10, "path: namespace")
}

// ---- check -------------------------------------------------------------------

// check compares a kmend locate -o json report with the expectations.
func check(expectFile, reportFile string) (string, error) {
	f, err := os.Open(expectFile)
	if err != nil {
		return "", err
	}
	defer f.Close()
	type want struct{ file, doc, via string }
	exp := map[string]want{}
	sc := bufio.NewScanner(f)
	for first := true; sc.Scan(); first = false {
		if first {
			continue
		}
		c := strings.Split(sc.Text(), "\t")
		if len(c) != 5 {
			return "", fmt.Errorf("%s: bad line %q", expectFile, sc.Text())
		}
		exp[c[0]+"/"+c[1]] = want{c[2], c[3], c[4]}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	data, err := os.ReadFile(reportFile)
	if err != nil {
		return "", err
	}
	var rep []struct {
		Object struct {
			Kind, Namespace, Name string
		} `json:"object"`
		Location *struct {
			File     string `json:"file"`
			Document int    `json:"document"`
			Via      string `json:"via"`
		} `json:"location"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		return "", fmt.Errorf("%s: not a kmend locate -o json report: %w", reportFile, err)
	}
	var located, correct, wrong, missing, other int
	via := map[string]int{}
	var firstWrong error
	for _, r := range rep {
		if r.Object.Kind != "Deployment" {
			other++
			continue
		}
		k := r.Object.Namespace + "/" + r.Object.Name
		w, ok := exp[k]
		if !ok {
			other++
			continue
		}
		delete(exp, k)
		if r.Location == nil {
			missing++
			if firstWrong == nil {
				firstWrong = fmt.Errorf("%s not located: %s", k, r.Error)
			}
			continue
		}
		located++
		via[r.Location.Via]++
		if r.Location.File == w.file && fmt.Sprint(r.Location.Document) == w.doc && r.Location.Via == w.via {
			correct++
		} else {
			wrong++
			if firstWrong == nil {
				firstWrong = fmt.Errorf("%s: got %s#%d via %s, want %s#%s via %s", k, r.Location.File, r.Location.Document, r.Location.Via, w.file, w.doc, w.via)
			}
		}
	}
	var vs []string
	for k, n := range via {
		vs = append(vs, fmt.Sprintf("%s:%d", k, n))
	}
	sort.Strings(vs)
	s := fmt.Sprintf("located=%d correct=%d wrong=%d missing=%d unreported=%d other=%d via=%s",
		located, correct, wrong, missing, len(exp), other, strings.Join(vs, ","))
	if firstWrong != nil {
		s += "\nfirst problem: " + firstWrong.Error()
	}
	if wrong+missing > 0 {
		return s, fmt.Errorf("%d Deployments located wrongly, %d not located", wrong, missing)
	}
	return s, nil
}
