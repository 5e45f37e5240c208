// Command gen writes a deterministic tree of Kubernetes manifests for the
// benchmarks: N files (default 10,000) spread over team directories, mixing
// workload kinds, risky and safe settings, comments, blank lines, block and
// flow styles, both sequence indentation styles, multi-document files and a
// few CRLF files. The same seed always gives the same bytes.
//
//	go run ./hack/gen -out DIR [-n 10000] [-seed 1]
//
// It uses the standard library only.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	out := flag.String("out", "", "directory to write the tree into (created; must be empty or absent)")
	n := flag.Int("n", 10000, "number of files")
	seed := flag.Uint64("seed", 1, "random seed")
	perDir := flag.Int("per-dir", 100, "files per directory")
	flag.Parse()
	if *out == "" || *n < 1 || *perDir < 1 {
		fmt.Fprintln(os.Stderr, "usage: gen -out DIR [-n 10000] [-seed 1] [-per-dir 100]")
		os.Exit(2)
	}
	if entries, err := os.ReadDir(*out); err == nil && len(entries) > 0 {
		fmt.Fprintf(os.Stderr, "gen: %s is not empty\n", *out)
		os.Exit(2)
	}
	st, err := generate(*out, *n, *perDir, *seed)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	fmt.Println(st)
}

// stats is what was written.
type stats struct {
	files, docs, bytes, crlf, multi int
	kinds                           map[string]int
}

func (s stats) String() string {
	var ks []string
	for k := range s.kinds {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var parts []string
	for _, k := range ks {
		parts = append(parts, fmt.Sprintf("%s=%d", k, s.kinds[k]))
	}
	return fmt.Sprintf("files=%d docs=%d bytes=%d multi-doc=%d crlf=%d %s",
		s.files, s.docs, s.bytes, s.multi, s.crlf, strings.Join(parts, " "))
}

func generate(out string, n, perDir int, seed uint64) (stats, error) {
	st := stats{kinds: map[string]int{}}
	r := rand.New(rand.NewPCG(seed, 0x6b6d656e64)) // "kmend"
	for i := 0; i < n; i++ {
		g := &gen{r: r, i: i}
		data, kinds := g.file()
		ext := ".yaml"
		if r.IntN(20) == 0 {
			ext = ".yml"
		}
		team := teams[(i/perDir)%len(teams)]
		dir := filepath.Join(out, fmt.Sprintf("%s-%03d", team, i/perDir))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return st, err
		}
		name := fmt.Sprintf("%s-%05d%s", g.app(), i, ext)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return st, err
		}
		st.files++
		st.docs += len(kinds)
		st.bytes += len(data)
		if len(kinds) > 1 {
			st.multi++
		}
		if g.crlf {
			st.crlf++
		}
		for _, k := range kinds {
			st.kinds[k]++
		}
	}
	return st, nil
}

var (
	teams  = []string{"web", "payments", "search", "platform", "data", "identity", "mobile", "ml"}
	apps   = []string{"api", "worker", "gateway", "cache", "indexer", "frontend", "billing", "auth", "notifier", "ingest", "reports", "scheduler"}
	images = []string{"registry.example.com/%s/%s", "ghcr.io/example/%[2]s", "docker.io/example/%[2]s"}
	// comments people leave in manifests
	comments = []string{
		"TODO: tighten this once the migration is done",
		"owned by the %s team, ask in #%s",
		"keep in sync with the staging overlay",
		"see the runbook before changing this",
		"bumped by renovate",
		"do not remove: the load balancer health check needs it",
		"FIXME: temporary, remove after the incident review",
		"values below were tuned during the 2023 peak",
	}
	inline = []string{"pinned", "see runbook", "per SRE review", "temporary", "tuned", "default upstream"}
)

// gen writes one file.
type gen struct {
	r    *rand.Rand
	i    int
	b    strings.Builder
	off  int    // column offset of "- " under its key: 0 (kubectl style) or 2
	eol  string // "\n", or "\r\n" for a few files
	crlf bool
	team string
	name string
	kind string // of the object being written
}

func (g *gen) pct(p int) bool { return g.r.IntN(100) < p }

func (g *gen) pick(s []string) string { return s[g.r.IntN(len(s))] }

func (g *gen) app() string {
	if g.name == "" {
		g.team = teams[g.r.IntN(len(teams))]
		g.name = fmt.Sprintf("%s-%s", g.team, g.pick(apps))
	}
	return g.name
}

// l writes one line at an indentation.
func (g *gen) l(ind int, format string, a ...any) {
	g.b.WriteString(strings.Repeat(" ", ind))
	fmt.Fprintf(&g.b, format, a...)
	g.b.WriteString(g.eol)
}

func (g *gen) blank() { g.b.WriteString(g.eol) }

// comment writes a full-line comment, sometimes.
func (g *gen) comment(ind, p int) {
	if g.pct(p) {
		c := g.pick(comments)
		if strings.Contains(c, "%s") {
			c = fmt.Sprintf(c, g.team, g.team)
		}
		g.l(ind, "# %s", c)
	}
}

// tail returns an inline comment, sometimes.
func (g *gen) tail(p int) string {
	if g.pct(p) {
		return "  # " + g.pick(inline)
	}
	return ""
}

// file returns a file's bytes and the kinds of its documents.
func (g *gen) file() ([]byte, []string) {
	g.eol = "\n"
	if g.pct(2) {
		g.eol, g.crlf = "\r\n", true
	}
	if g.pct(50) {
		g.off = 2
	}
	g.app()
	var kinds []string
	if g.pct(30) {
		g.l(0, "# Copyright %d Example Corp. SPDX-License-Identifier: Apache-2.0", 2019+g.r.IntN(6))
		g.l(0, "#")
	}
	g.l(0, "# %s: manifests for %s", g.name, g.team)
	if g.pct(20) {
		g.l(0, "---")
	}
	var kind string
	switch x := g.r.IntN(100); {
	case x < 45:
		kind = "Deployment"
	case x < 55:
		kind = "StatefulSet"
	case x < 63:
		kind = "DaemonSet"
	case x < 71:
		kind = "CronJob"
	case x < 78:
		kind = "Job"
	case x < 83:
		kind = "Pod"
	case x < 90:
		kind = "ConfigMap"
	default:
		kind = "Service"
	}
	g.object(kind)
	kinds = append(kinds, kind)
	// multi-document files: a Service and sometimes a ConfigMap next to
	// the workload
	if kind != "ConfigMap" && kind != "Service" && g.pct(35) {
		g.l(0, "---")
		g.comment(0, 30)
		g.object("Service")
		kinds = append(kinds, "Service")
		if g.pct(30) {
			g.l(0, "---")
			g.object("ConfigMap")
			kinds = append(kinds, "ConfigMap")
		}
	}
	return []byte(g.b.String()), kinds
}

func (g *gen) meta(ind int, name string) {
	g.l(ind, "metadata:")
	g.l(ind+2, "name: %s", name)
	if g.pct(85) {
		g.l(ind+2, "namespace: %s", g.team)
	}
	if g.pct(10) {
		g.l(ind+2, "labels: {app: %s, team: %s}", g.name, g.team)
		return
	}
	g.l(ind+2, "labels:")
	g.l(ind+4, "app: %s", g.name)
	g.l(ind+4, "team: %s", g.team)
	if g.pct(40) {
		g.l(ind+2, "annotations:")
		g.l(ind+4, "example.com/owner: %s-oncall", g.team)
		if g.pct(30) {
			g.l(ind+4, "prometheus.io/scrape: \"true\"")
		}
	}
}

func (g *gen) object(kind string) {
	g.kind = kind
	switch kind {
	case "ConfigMap":
		g.l(0, "apiVersion: v1")
		g.l(0, "kind: ConfigMap")
		g.meta(0, g.name+"-config")
		g.l(0, "data:")
		g.l(2, "LOG_LEVEL: %s", g.pick([]string{"debug", "info", "warn"}))
		g.comment(2, 30)
		g.l(2, "FEATURE_FLAGS: \"%s\"", g.pick([]string{"a,b", "b", "", "c,d,e"}))
		if g.pct(40) {
			g.l(2, "app.properties: |")
			g.l(4, "server.port=8080")
			g.l(4, "cache.ttl=%ds", 30+g.r.IntN(600))
		}
	case "Service":
		g.l(0, "apiVersion: v1")
		g.l(0, "kind: Service")
		g.meta(0, g.name)
		g.l(0, "spec:")
		if g.pct(15) {
			g.l(2, "type: LoadBalancer%s", g.tail(40))
		}
		g.l(2, "selector:")
		g.l(4, "app: %s", g.name)
		if g.pct(10) {
			g.l(2, "ports: [{name: http, port: 80, targetPort: 8080}]")
			return
		}
		g.l(2, "ports:")
		g.l(2+g.off, "- name: http")
		g.l(4+g.off, "port: 80")
		g.l(4+g.off, "targetPort: 8080")
	case "Deployment", "StatefulSet", "DaemonSet":
		g.l(0, "apiVersion: apps/v1")
		g.l(0, "kind: %s", kind)
		g.meta(0, g.name)
		g.l(0, "spec:")
		if kind != "DaemonSet" {
			g.l(2, "replicas: %d%s", 1+g.r.IntN(5), g.tail(20))
		}
		if kind == "StatefulSet" {
			g.l(2, "serviceName: %s", g.name)
		}
		g.l(2, "selector:")
		g.l(4, "matchLabels:")
		g.l(6, "app: %s", g.name)
		g.template(2)
	case "Job":
		g.l(0, "apiVersion: batch/v1")
		g.l(0, "kind: Job")
		g.meta(0, g.name+"-job")
		g.l(0, "spec:")
		g.l(2, "backoffLimit: %d", g.r.IntN(4))
		g.template(2)
	case "CronJob":
		g.l(0, "apiVersion: batch/v1")
		g.l(0, "kind: CronJob")
		g.meta(0, g.name+"-cron")
		g.l(0, "spec:")
		g.l(2, "schedule: \"%d %d * * *\"%s", g.r.IntN(60), g.r.IntN(24), g.tail(50))
		g.l(2, "concurrencyPolicy: Forbid")
		g.l(2, "jobTemplate:")
		g.l(4, "spec:")
		g.template(6)
	case "Pod":
		g.l(0, "apiVersion: v1")
		g.l(0, "kind: Pod")
		g.meta(0, g.name+"-debug")
		g.l(0, "spec:")
		g.podSpec(2, true)
	}
}

// template writes "template:" with a pod spec at ind.
func (g *gen) template(ind int) {
	g.l(ind, "template:")
	g.l(ind+2, "metadata:")
	g.l(ind+4, "labels:")
	g.l(ind+6, "app: %s", g.name)
	g.l(ind+2, "spec:")
	g.podSpec(ind+4, false)
}

func (g *gen) podSpec(ind int, bare bool) {
	g.comment(ind, 15)
	switch {
	case g.kind == "Job" || g.kind == "CronJob":
		g.l(ind, "restartPolicy: %s", g.pick([]string{"OnFailure", "Never"}))
	case !bare && g.pct(60):
		g.l(ind, "restartPolicy: Always")
	}
	if g.pct(50) {
		g.l(ind, "serviceAccountName: %s", g.name)
	}
	if g.pct(25) {
		g.l(ind, "automountServiceAccountToken: false")
	}
	for _, h := range []string{"hostNetwork", "hostPID", "hostIPC"} {
		if g.pct(4) {
			g.l(ind, "%s: true%s", h, g.tail(50))
		}
	}
	switch x := g.r.IntN(100); {
	case x < 35: // safe
		g.l(ind, "securityContext:")
		g.l(ind+2, "runAsNonRoot: true")
		g.l(ind+2, "runAsUser: %d", 10001+g.r.IntN(1000))
		g.l(ind+2, "runAsGroup: %d", 10001+g.r.IntN(1000))
		g.l(ind+2, "seccompProfile:")
		g.l(ind+4, "type: RuntimeDefault")
	case x < 45: // root
		g.l(ind, "securityContext:")
		g.l(ind+2, "runAsUser: 0%s", g.tail(60))
	case x < 50:
		g.l(ind, "securityContext: {}")
	case x < 55:
		g.l(ind, "securityContext: {runAsNonRoot: true, fsGroup: 2000}")
	}
	if g.pct(15) {
		g.blank()
		g.l(ind, "initContainers:")
		g.container(ind, "init", true)
	}
	if g.pct(10) {
		g.blank()
	}
	g.l(ind, "containers:")
	g.container(ind, "app", false)
	if g.pct(20) {
		g.container(ind, "sidecar", false)
	}
	g.volumes(ind)
}

// container writes one sequence item under a "containers:" key at ind.
func (g *gen) container(ind int, name string, init bool) {
	d := ind + g.off // column of "- "
	c := d + 2       // column of the item's keys
	g.comment(d, 10)
	g.l(d, "- name: %s", name)
	g.l(c, "image: %s%s", g.image(), g.tail(25))
	switch x := g.r.IntN(100); {
	case x < 30:
		g.l(c, "imagePullPolicy: Always")
	case x < 55:
		g.l(c, "imagePullPolicy: IfNotPresent")
	}
	if init {
		if g.pct(50) {
			g.l(c, "command: [\"sh\", \"-c\", \"chown -R 1000:1000 /data\"]")
		} else {
			g.l(c, "command:")
			g.l(c+g.off, "- sh")
			g.l(c+g.off, "- -c")
			g.l(c+g.off, "- until nslookup db; do sleep 2; done")
		}
	} else if g.pct(40) {
		g.l(c, "args:")
		g.l(c+g.off, "- --port=8080")
		g.l(c+g.off, "- --log-format=json%s", g.tail(20))
	}
	if !init {
		g.l(c, "ports:")
		g.l(c+g.off, "- containerPort: 8080")
		if g.pct(4) {
			g.l(c+g.off+2, "hostPort: 8080")
		}
	}
	g.env(c)
	g.securityContext(c)
	g.resources(c)
	if !init {
		g.probes(c)
	}
	if g.pct(30) {
		g.l(c, "volumeMounts:")
		g.l(c+g.off, "- name: data")
		g.l(c+g.off+2, "mountPath: /data")
	}
}

func (g *gen) image() string {
	base := fmt.Sprintf(g.pick(images), g.team, g.name)
	switch x := g.r.IntN(100); {
	case x < 10:
		return base + ":latest"
	case x < 18:
		return base
	case x < 28:
		return fmt.Sprintf("%s@sha256:%016x%016x%016x%016x", base, g.r.Uint64(), g.r.Uint64(), g.r.Uint64(), g.r.Uint64())
	default:
		return fmt.Sprintf("%s:%d.%d.%d", base, g.r.IntN(5), g.r.IntN(20), g.r.IntN(10))
	}
}

func (g *gen) env(c int) {
	if !g.pct(60) {
		return
	}
	g.l(c, "env:")
	g.l(c+g.off, "- name: LOG_LEVEL")
	g.l(c+g.off+2, "value: info")
	if g.pct(15) {
		g.l(c+g.off, "- name: DB_PASSWORD%s", g.tail(30))
		g.l(c+g.off+2, "value: \"hunter2-%04d\"", g.r.IntN(10000))
	}
	if g.pct(25) {
		g.l(c+g.off, "- name: API_TOKEN")
		g.l(c+g.off+2, "valueFrom:")
		g.l(c+g.off+4, "secretKeyRef:")
		g.l(c+g.off+6, "name: %s-secrets", g.name)
		g.l(c+g.off+6, "key: api-token")
	}
	if g.pct(10) {
		g.l(c+g.off, "- {name: REGION, value: eu-west-1}")
	}
}

func (g *gen) securityContext(c int) {
	switch x := g.r.IntN(100); {
	case x < 25: // hardened
		g.l(c, "securityContext:")
		g.l(c+2, "allowPrivilegeEscalation: false")
		g.l(c+2, "readOnlyRootFilesystem: true")
		g.l(c+2, "runAsNonRoot: true")
		g.l(c+2, "capabilities:")
		g.l(c+4, "drop:")
		g.l(c+4+g.off, "- ALL")
	case x < 35: // partial
		g.l(c, "securityContext:")
		g.l(c+2, "allowPrivilegeEscalation: false")
	case x < 40:
		g.l(c, "securityContext:")
		g.l(c+2, "privileged: true%s", g.tail(70))
	case x < 45:
		g.l(c, "securityContext:")
		g.l(c+2, "allowPrivilegeEscalation: true")
		g.l(c+2, "capabilities:")
		g.l(c+4, "add: [\"NET_ADMIN\", \"SYS_TIME\"]")
	case x < 48:
		g.l(c, "securityContext: {readOnlyRootFilesystem: false}")
	}
}

func (g *gen) resources(c int) {
	switch x := g.r.IntN(100); {
	case x < 40:
		g.l(c, "resources:")
		g.l(c+2, "requests:")
		g.l(c+4, "cpu: %dm", 50*(1+g.r.IntN(10)))
		g.l(c+4, "memory: %dMi", 64*(1+g.r.IntN(8)))
		g.l(c+2, "limits:")
		g.l(c+4, "cpu: %dm", 500*(1+g.r.IntN(4)))
		g.l(c+4, "memory: %dMi", 512*(1+g.r.IntN(4)))
	case x < 60:
		g.l(c, "resources:")
		g.comment(c+2, 40)
		g.l(c+2, "requests:")
		g.l(c+4, "cpu: 100m")
		g.l(c+4, "memory: 128Mi")
	case x < 65:
		g.l(c, "resources: {}")
	}
}

func (g *gen) probes(c int) {
	if g.pct(45) {
		g.l(c, "livenessProbe:")
		g.l(c+2, "httpGet:")
		g.l(c+4, "path: /healthz")
		g.l(c+4, "port: 8080")
		g.l(c+2, "initialDelaySeconds: %d", 5+g.r.IntN(30))
	}
	if g.pct(55) {
		g.l(c, "readinessProbe:")
		if g.pct(20) {
			g.l(c+2, "tcpSocket: {port: 8080}")
		} else {
			g.l(c+2, "httpGet:")
			g.l(c+4, "path: /ready")
			g.l(c+4, "port: 8080")
		}
		g.l(c+2, "periodSeconds: %d", 5+g.r.IntN(10))
	}
}

func (g *gen) volumes(ind int) {
	if !g.pct(35) {
		return
	}
	g.l(ind, "volumes:")
	g.l(ind+g.off, "- name: data")
	switch x := g.r.IntN(100); {
	case x < 15:
		g.l(ind+g.off+2, "hostPath:")
		g.l(ind+g.off+4, "path: %s%s", g.pick([]string{"/var/lib/" + g.team, "/var/log", "/mnt/disks/ssd0", "/"}), g.tail(50))
	case x < 70:
		g.l(ind+g.off+2, "emptyDir: {}")
	default:
		g.l(ind+g.off+2, "configMap:")
		g.l(ind+g.off+4, "name: %s-config", g.name)
	}
}
