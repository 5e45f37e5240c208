package bot

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/config"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/githubfake"
	"github.com/kmend/kmend/internal/manifest"
)

// The load test: 24 repositories on three installations, 1,000 deliveries
// in two phases, shuffled with a fixed seed and each sent twice by four
// senders at once to a queue of 32 with four workers. GitHub answers some
// calls with a 500 or a secondary rate limit on the way.
//
// Each repository has a kind that fixes what it must end with, whatever
// the order: every change to a repository's main is made just before the
// delivery of its push is sent, so a delivery handled after it exists.
// Most deliveries are no-ops (pushes that touch no YAML or another branch,
// pull request events that are not merges, pings, events kmend does not
// handle); 75 do real work: four onboard eight repositories each, the
// others scan a repository and open, update or close its pull requests.
const (
	loadSeed      = 20240611
	loadOrgs      = 3
	loadReposPer  = 8
	loadPhase1    = 600
	loadPhase2    = 400
	loadSenders   = 4
	loadWorkers   = 4
	loadQueueSize = 32
)

type loadKind int

const (
	kindRisky     loadKind = iota // one open fix pull request
	kindClean                     // no fix pull request
	kindGrowing                   // new findings in each phase: one pull request, updated
	kindResolved                  // a person removes the findings in phase 2: closed, one comment
	kindMerged                    // kmend's pull request merged between the phases
	kindDirectory                 // grouping: directory, two directories: two pull requests
	kindBig                       // a body too long: continued in comments, more in phase 2
)

func (k loadKind) String() string {
	return [...]string{"risky", "clean", "growing", "resolved", "merged", "directory", "big"}[k]
}

type loadRepo struct {
	ref      repoRef
	kind     loadKind
	settings bool // has .github/kmend.yaml: no onboarding
}

// loadDelivery is one delivery; mutate, when set, changes the
// repository's main before the first copy is sent.
type loadDelivery struct {
	event, id string
	body      []byte
	mutate    func()
	once      sync.Once
	handled   bool // kmend has a handler for the event: deduplicated
	real      bool // expected to do work (for the statistics)
}

// loadRun is the state of the load test.
type loadRun struct {
	h     *harness
	t     *testing.T
	repos []*loadRepo
	rng   *rand.Rand
	n     int // deliveries made so far, for IDs

	// results of the sends
	mu       sync.Mutex
	statuses map[string][]int // by delivery ID, each copy's final status
	refused  int              // 503s (queue full), retried
	sends    int
}

func TestLoadShuffledDeliveries(t *testing.T) {
	start := time.Now()
	h := startHarness(t, harnessOptions{Workers: loadWorkers, QueueSize: loadQueueSize})
	lr := &loadRun{h: h, t: t, rng: rand.New(rand.NewPCG(loadSeed, 1)), statuses: map[string][]int{}}
	lr.setup()

	// Transient faults: every 23rd call to GitHub meets a 500 first,
	// every 37th a secondary rate limit (Retry-After: 1). The fault is
	// queued just before the call is sent, so it is met by this call or
	// by one running at the same time, and retried.
	var calls, fails, limits atomic.Int64
	h.setIntercept(func(req *http.Request, next http.RoundTripper) (*http.Response, error) {
		switch n := calls.Add(1); {
		case n%23 == 0:
			fails.Add(1)
			h.fake.FailNext(1, http.StatusInternalServerError)
		case n%37 == 0:
			limits.Add(1)
			h.fake.SecondaryRateLimitNext(1, time.Second)
		}
		return next.RoundTrip(req)
	})

	p1 := lr.phase1()
	lr.send(p1)
	lr.waitHandled(p1)

	// Between the phases, people merge kmend's pull requests of the
	// "merged" repositories.
	merged := map[string]githubfake.PR{}
	for _, r := range lr.repos {
		if r.kind != kindMerged {
			continue
		}
		fix := fixPRs(h.fake.PRs(r.ref.owner, r.ref.name))
		if len(fix) != 1 || fix[0].State != "open" {
			t.Fatalf("%s after phase 1: %s, want one open fix pull request", r.ref, prSummary(fix))
		}
		h.fake.MergePR(r.ref.owner, r.ref.name, fix[0].Number)
		merged[r.ref.String()] = fix[0]
	}

	p2 := lr.phase2(merged)
	lr.send(p2)
	lr.waitHandled(p2)
	h.setIntercept(nil)

	all := append(p1, p2...)
	if len(all) != loadPhase1+loadPhase2 {
		t.Fatalf("%d deliveries, want %d", len(all), loadPhase1+loadPhase2)
	}

	// Every delivery: one copy accepted, the other refused as a duplicate
	// (or both answered at once for events kmend does not queue); each
	// handled exactly once; no handler error.
	handled, real := 0, 0
	for _, d := range all {
		got := append([]int(nil), lr.statuses[d.id]...)
		slices.Sort(got)
		want := []int{http.StatusAccepted, http.StatusAccepted} // not handled: ignored twice
		switch {
		case d.event == "ping":
			want = []int{http.StatusOK, http.StatusOK}
		case d.handled:
			want = []int{http.StatusOK, http.StatusAccepted}
		}
		if !slices.Equal(got, want) {
			t.Errorf("delivery %s (%s): statuses %v, want %v", d.id, d.event, got, want)
		}
		n, wantN := h.rec.count(d.id), 0
		if d.handled {
			wantN = 1
			handled++
		}
		if d.real {
			real++
		}
		if n != wantN {
			t.Errorf("delivery %s (%s) handled %d times, want %d", d.id, d.event, n, wantN)
		}
	}
	errs := h.rec.errors()
	for id, e := range errs {
		t.Errorf("delivery %s: handler failed: %v", id, e)
	}
	if e := h.fake.Errors(); len(e) > 0 {
		t.Errorf("the GitHub stand-in saw %d invalid calls, first: %v", len(e), e[0])
	}
	waits := h.transportWaits()
	second := 0
	for _, w := range waits {
		if w == time.Second {
			second++
		}
	}
	if int64(len(waits)) != fails.Load()+limits.Load() || int64(second) < limits.Load() {
		t.Errorf("%d retries (%d after Retry-After: 1), want one per fault: %d 500s, %d secondary rate limits", len(waits), second, fails.Load(), limits.Load())
	}

	// The end state.
	wantPRs, gotPRs, wantComments, gotComments := 0, 0, 0, 0
	for _, r := range lr.repos {
		wp, gp, wc, gc := lr.checkRepo(r, merged)
		wantPRs, gotPRs, wantComments, gotComments = wantPRs+wp, gotPRs+gp, wantComments+wc, gotComments+gc
	}
	if gotPRs != wantPRs || gotComments != wantComments {
		t.Errorf("pull requests %d, want %d; comments %d, want %d", gotPRs, wantPRs, gotComments, wantComments)
	}
	verdict := "ok"
	if t.Failed() {
		verdict = "FAILED"
	}
	// One line for hack/bench/app.sh.
	t.Logf("load: result=%s deliveries=%d sends=%d handled=%d real=%d refused_503=%d faults_500=%d faults_secondary=%d handler_errors=%d prs_expected=%d prs_observed=%d comments_expected=%d comments_observed=%d repos=%d installations=%d took=%.1fs",
		verdict, len(all), lr.sends, handled, real, lr.refused, fails.Load(), limits.Load(), len(errs), wantPRs, gotPRs, wantComments, gotComments,
		len(lr.repos), loadOrgs, time.Since(start).Seconds())
}

// setup makes the repositories.
func (lr *loadRun) setup() {
	h := lr.h
	for o := 0; o < loadOrgs; o++ {
		org := fmt.Sprintf("org-%c", 'a'+o)
		for i := 0; i < loadReposPer; i++ {
			j := o*loadReposPer + i
			kind := [...]loadKind{kindRisky, kindClean, kindGrowing, kindResolved, kindMerged, kindDirectory, kindRisky, kindRisky}[j%8]
			if j%8 == 7 && j < 16 {
				kind = kindBig
			}
			r := &loadRepo{kind: kind, settings: j%3 == 0 || kind == kindDirectory}
			files := map[string][]byte{"README.md": []byte("# service\n")}
			switch kind {
			case kindClean:
				files["apps/catalog/catalog-api.yaml"] = fixture(lr.t, "apps/catalog-api/catalog-api.yaml")
				files["configmaps.yaml"] = fixture(lr.t, "configmaps.yaml")
			case kindDirectory:
				files["apps/storefront/storefront.yaml"] = fixture(lr.t, "apps/storefront/storefront.yaml")
				files["apps/payments/deployment.yaml"] = fixture(lr.t, "apps/payments/deployment.yaml")
			case kindBig:
				for k := 0; k < 8; k++ {
					files[fmt.Sprintf("apps/s%02d/storefront.yaml", k)] = fixture(lr.t, "apps/storefront/storefront.yaml")
				}
			default:
				files["apps/storefront/storefront.yaml"] = fixture(lr.t, "apps/storefront/storefront.yaml")
			}
			if r.settings {
				files[".github/kmend.yaml"] = []byte("version: 1\n")
				if kind == kindDirectory {
					files[".github/kmend.yaml"] = []byte("version: 1\ngrouping: directory\n")
				}
			}
			nm := fmt.Sprintf("svc-%02d", i)
			h.fake.AddRepo(org, nm, files)
			r.ref = repoRef{org, nm, h.fake.Install(org)}
			lr.repos = append(lr.repos, r)
		}
	}
}

func (lr *loadRun) next(event string, body []byte, handled, real bool) *loadDelivery {
	lr.n++
	return &loadDelivery{event: event, id: deliveryID("load", lr.n), body: body, handled: handled, real: real}
}

// push is a push to r's main touching files, after mutate.
func (lr *loadRun) push(r *loadRepo, mutate func(), files ...string) *loadDelivery {
	d := lr.next("push", lr.h.pushFor(r.ref, "main", files...), true, true)
	d.mutate = mutate
	return d
}

// onboarding is the installation event of an organisation's repositories:
// installation.created or installation_repositories.added.
func (lr *loadRun) onboarding(org int) *loadDelivery {
	var repos []any
	for _, r := range lr.repos[org*loadReposPer : (org+1)*loadReposPer] {
		repos = append(repos, map[string]any{"id": 1000 + org*100 + len(repos), "node_id": "R_x", "name": r.ref.name, "full_name": r.ref.String(), "private": false})
	}
	first := lr.repos[org*loadReposPer]
	if org%2 == 0 {
		return lr.next("installation", lr.h.payloadFor(first.ref, "installation.created", func(m map[string]any) {
			m["repositories"] = repos
		}), true, true)
	}
	return lr.next("installation_repositories", lr.h.payloadFor(first.ref, "installation_repositories.added", func(m map[string]any) {
		m["repositories_added"] = repos
		m["repositories_removed"] = []any{}
	}), true, true)
}

// noise is a delivery that makes kmend do nothing.
func (lr *loadRun) noise() *loadDelivery {
	h := lr.h
	r := lr.repos[lr.rng.IntN(len(lr.repos))]
	switch lr.rng.IntN(9) {
	case 0: // a push that touches no YAML
		return lr.next("push", h.pushFor(r.ref, "main", "README.md", "docs/notes.txt"), true, false)
	case 1: // a push to another branch
		return lr.next("push", h.pushFor(r.ref, "feature-"+strconv.Itoa(lr.n), "apps/storefront/storefront.yaml"), true, false)
	case 2: // a branch deleted
		return lr.next("push", h.payloadFor(r.ref, "push", func(m map[string]any) {
			m["ref"], m["deleted"] = "refs/heads/old-"+strconv.Itoa(lr.n), true
		}), true, false)
	case 3, 4: // a pull request from a fork: its settings are not checked
		file := [...]string{"pull_request.opened", "pull_request.synchronize"}[lr.rng.IntN(2)]
		return lr.next("pull_request", h.payloadFor(r.ref, file, func(m map[string]any) {
			m["pull_request"].(map[string]any)["head"].(map[string]any)["repo"].(map[string]any)["full_name"] = "someone/fork"
		}), true, false)
	case 5: // closed without merging, not one of kmend's
		return lr.next("pull_request", h.payloadFor(r.ref, "pull_request.closed", func(m map[string]any) {
			m["pull_request"].(map[string]any)["merged"] = false
		}), true, false)
	case 6:
		return lr.next("ping", h.payloadFor(r.ref, "ping", nil), false, false)
	case 7:
		return lr.next("issue_comment", h.payloadFor(r.ref, "issue_comment.created", nil), false, false)
	default:
		return lr.next("check_run", h.payloadFor(r.ref, "check_run.rerequested", nil), false, false)
	}
}

// phase1: onboarding (each organisation once, one redelivered under a new
// ID), a first push to every repository (every fourth one redelivered),
// the growing repositories' first new finding.
func (lr *loadRun) phase1() []*loadDelivery {
	var ds []*loadDelivery
	for o := 0; o < loadOrgs; o++ {
		ds = append(ds, lr.onboarding(o))
		if o == 0 {
			ds = append(ds, lr.onboarding(o))
		}
	}
	for j, r := range lr.repos {
		ds = append(ds, lr.push(r, nil, r.anyManifest()))
		if j%4 == 0 {
			ds = append(ds, lr.push(r, nil, r.anyManifest()))
		}
		if r.kind == kindGrowing {
			ds = append(ds, lr.push(r, lr.commit(r, map[string][]byte{"apps/payments/deployment.yaml": fixture(lr.t, "apps/payments/deployment.yaml")}), "apps/payments/deployment.yaml"))
		}
	}
	return lr.fill(ds, loadPhase1)
}

// phase2: a push to every repository; the growing ones get another new
// finding, the big ones eight more files, the resolved ones lose theirs;
// the merged pull requests' events, each sent under two IDs.
func (lr *loadRun) phase2(merged map[string]githubfake.PR) []*loadDelivery {
	var ds []*loadDelivery
	for _, r := range lr.repos {
		ds = append(ds, lr.push(r, nil, r.anyManifest()))
		switch r.kind {
		case kindGrowing:
			ds = append(ds, lr.push(r, lr.commit(r, map[string][]byte{"jobs/migrate-job.yaml": fixture(lr.t, "jobs/migrate-job.yaml")}), "jobs/migrate-job.yaml"))
		case kindBig:
			more := map[string][]byte{}
			for k := 8; k < 16; k++ {
				more[fmt.Sprintf("apps/s%02d/storefront.yaml", k)] = fixture(lr.t, "apps/storefront/storefront.yaml")
			}
			ds = append(ds, lr.push(r, lr.commit(r, more), "apps/s08/storefront.yaml"))
		case kindResolved:
			// The workload is replaced by a hardened one: no finding at all.
			ds = append(ds, lr.push(r, lr.commit(r, map[string][]byte{"apps/storefront/storefront.yaml": fixture(lr.t, "apps/catalog-api/catalog-api.yaml")}), "apps/storefront/storefront.yaml"))
		case kindMerged:
			pr := merged[r.ref.String()]
			for range 2 {
				ds = append(ds, lr.next("pull_request", lr.h.payloadFor(r.ref, "pull_request.closed", func(m map[string]any) {
					m["number"] = pr.Number
					p := m["pull_request"].(map[string]any)
					p["number"], p["merged"], p["body"], p["title"] = pr.Number, true, pr.Body, pr.Title
					p["head"].(map[string]any)["ref"] = pr.Head
					p["base"].(map[string]any)["ref"] = "main"
				}), true, true))
			}
		}
	}
	return lr.fill(ds, loadPhase2)
}

// fill adds no-op deliveries up to n.
func (lr *loadRun) fill(ds []*loadDelivery, n int) []*loadDelivery {
	if len(ds) > n {
		lr.t.Fatalf("%d deliveries do work, more than the phase's %d", len(ds), n)
	}
	for len(ds) < n {
		ds = append(ds, lr.noise())
	}
	return ds
}

// commit returns a change to r's main, as a person pushes it.
func (lr *loadRun) commit(r *loadRepo, files map[string][]byte) func() {
	return func() { lr.h.fake.Push(r.ref.owner, r.ref.name, "main", files, "change by a person") }
}

func (r *loadRepo) anyManifest() string {
	if r.kind == kindBig {
		return "apps/s00/storefront.yaml"
	}
	return "apps/storefront/storefront.yaml"
}

// send sends every delivery twice, in a shuffled order, from loadSenders
// goroutines. A 503 (queue full) is retried after a moment, as GitHub's
// redelivery would.
func (lr *loadRun) send(ds []*loadDelivery) {
	copies := make([]*loadDelivery, 0, 2*len(ds))
	for _, d := range ds {
		copies = append(copies, d, d)
	}
	lr.rng.Shuffle(len(copies), func(i, j int) { copies[i], copies[j] = copies[j], copies[i] })
	work := make(chan *loadDelivery)
	var wg sync.WaitGroup
	secret := lr.h.fake.App().WebhookSecret
	for range loadSenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				if d.mutate != nil {
					d.once.Do(d.mutate)
				}
				for {
					resp, err := githubfake.Deliver(lr.t.Context(), lr.h.hook, d.event, d.id, d.body, secret)
					if err != nil {
						lr.t.Errorf("delivery %s: %v", d.id, err)
						return
					}
					resp.Body.Close()
					lr.mu.Lock()
					lr.sends++
					if resp.StatusCode == http.StatusServiceUnavailable {
						lr.refused++
						lr.mu.Unlock()
						time.Sleep(100 * time.Millisecond)
						continue
					}
					lr.statuses[d.id] = append(lr.statuses[d.id], resp.StatusCode)
					lr.mu.Unlock()
					break
				}
			}
		}()
	}
	for _, d := range copies {
		work <- d
	}
	close(work)
	wg.Wait()
}

// waitHandled waits until every delivery kmend handles was handled.
func (lr *loadRun) waitHandled(ds []*loadDelivery) {
	lr.t.Helper()
	ok := lr.h.rec.wait(5*time.Minute, func(r *recorder) bool {
		for _, d := range ds {
			if d.handled && r.times[d.id] == 0 {
				return false
			}
		}
		return true
	})
	if !ok {
		lr.t.Fatal("deliveries not handled after 5 minutes")
	}
}

// fixPRs are kmend's fix pull requests among prs (not the onboarding).
func fixPRs(prs []githubfake.PR) []githubfake.PR {
	return slices.DeleteFunc(prs, func(pr githubfake.PR) bool { return pr.Head == "kmend/onboarding" })
}

var continued = regexp.MustCompile(`continues? in the (\d+) comments? below`)

// checkRepo checks a repository's end state and returns the pull requests
// and comments expected and found.
func (lr *loadRun) checkRepo(r *loadRepo, merged map[string]githubfake.PR) (wantPRs, gotPRs, wantComments, gotComments int) {
	t, f := lr.t, lr.h.fake
	prs := f.PRs(r.ref.owner, r.ref.name)
	gotPRs = len(prs)
	for _, pr := range prs {
		gotComments += len(f.Comments(r.ref.owner, r.ref.name, pr.Number))
	}
	lr.h.checkNoHalfState(r.ref)

	// Onboarding: once, for the repositories without settings.
	onboarding := len(prs) - len(fixPRs(slices.Clone(prs)))
	want := 1
	if r.settings {
		want = 0
	}
	wantPRs += want
	if onboarding != want {
		t.Errorf("%s (%s): %d onboarding pull requests, want %d", r.ref, r.kind, onboarding, want)
	}

	fix := fixPRs(prs)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s (%s): %s:%s", r.ref, r.kind, fmt.Sprintf(format, args...), prSummary(fix))
	}
	comments := func(pr githubfake.PR) []githubfake.Comment { return f.Comments(r.ref.owner, r.ref.name, pr.Number) }
	switch r.kind {
	case kindClean:
		if len(fix) != 0 {
			fail("fix pull requests for a clean repository")
		}
	case kindRisky, kindGrowing, kindBig:
		wantPRs++
		if len(fix) != 1 || fix[0].State != "open" {
			fail("want one open fix pull request")
			return
		}
		files := []string{"apps/storefront/storefront.yaml"}
		switch r.kind {
		case kindGrowing:
			files = append(files, "apps/payments/deployment.yaml", "jobs/migrate-job.yaml")
		case kindBig:
			files = nil
			for k := 0; k < 16; k++ {
				files = append(files, fmt.Sprintf("apps/s%02d/storefront.yaml", k))
			}
		}
		lr.checkBranch(r, fix[0], files)
		wc := 0
		if m := continued.FindStringSubmatch(fix[0].Body); m != nil {
			wc, _ = strconv.Atoi(m[1])
		}
		if r.kind == kindBig && wc == 0 {
			fail("the body of 16 workloads' fixes is not continued in comments")
		}
		wantComments += wc
		cs := comments(fix[0])
		if len(cs) != wc {
			fail("%d comments, want %d", len(cs), wc)
		}
		for i, c := range cs {
			if head := fmt.Sprintf("<!-- kmend:continued %d/%d -->", i+1, wc); !strings.HasPrefix(c.Body, head) {
				fail("comment %d does not start with %s", i+1, head)
			}
		}
	case kindResolved:
		wantPRs++
		wantComments++
		if len(fix) != 1 || fix[0].State != "closed" || fix[0].Merged {
			fail("want one fix pull request, closed")
			return
		}
		if cs := comments(fix[0]); len(cs) != 1 || !strings.Contains(cs[0].Body, "no longer in `main`") {
			fail("%d comments, want the one closing comment", len(cs))
		}
	case kindMerged:
		wantPRs++
		if len(fix) != 1 || !fix[0].Merged || fix[0].Number != merged[r.ref.String()].Number {
			fail("want the merged pull request only")
		}
		if cs := comments(fix[0]); len(cs) != 0 {
			fail("%d comments on the merged pull request", len(cs))
		}
	case kindDirectory:
		wantPRs += 2
		if len(fix) != 2 || fix[0].State != "open" || fix[1].State != "open" || fix[0].Head == fix[1].Head {
			fail("want two open fix pull requests, one per directory")
			return
		}
		for _, pr := range fix {
			if strings.Contains(pr.Body, "apps/payments/deployment.yaml") {
				lr.checkBranch(r, pr, []string{"apps/payments/deployment.yaml"})
			} else {
				lr.checkBranch(r, pr, []string{"apps/storefront/storefront.yaml"})
			}
		}
	}
	return wantPRs, gotPRs, wantComments, gotComments
}

// checkBranch checks a fix pull request's branch: built on main as it is
// now (its parent is main's tip), each of files listed in the body and
// left with no finding kmend fixes by itself.
func (lr *loadRun) checkBranch(r *loadRepo, pr githubfake.PR, files []string) {
	t, f := lr.t, lr.h.fake
	t.Helper()
	main, err := f.Branch(r.ref.owner, r.ref.name, "main")
	if err != nil {
		t.Fatal(err)
	}
	if pr.BaseSHA != main {
		t.Errorf("%s#%d: base %s, main at %s", r.ref, pr.Number, pr.BaseSHA, main)
	}
	if parent := lr.parent(r, pr.HeadSHA); parent != main {
		t.Errorf("%s#%d: the branch is built on %s, not on main's tip %s: stale", r.ref, pr.Number, parent, main)
	}
	dir := t.TempDir()
	var paths []string
	for _, p := range files {
		if !strings.Contains(pr.Body, p) {
			t.Errorf("%s#%d: the body does not mention %s", r.ref, pr.Number, p)
		}
		b, err := f.File(r.ref.owner, r.ref.name, pr.Head, p)
		if err != nil {
			t.Errorf("%s#%d: %v", r.ref, pr.Number, err)
			continue
		}
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, full)
	}
	if n := autoFindings(t, paths); n != 0 {
		t.Errorf("%s#%d: the branch leaves %d findings kmend fixes by itself", r.ref, pr.Number, n)
	}
}

// parent is the first parent of a commit, read from the bare repository.
func (lr *loadRun) parent(r *loadRepo, sha string) string {
	repo, _ := lr.h.fake.Repo(r.ref.owner, r.ref.name)
	out, err := gitOutput(repo.Dir, "rev-parse", sha+"^")
	if err != nil {
		lr.t.Errorf("%s: parent of %s: %v", r.ref, sha, err)
	}
	return out
}

var (
	builtinOnce sync.Once
	builtin     []*catalog.Control
)

// autoFindings counts the findings of files that kmend fixes without
// review (at the default minimum severity).
func autoFindings(t testing.TB, paths []string) int {
	t.Helper()
	builtinOnce.Do(func() {
		cat, err := catalog.LoadBuiltin()
		if err != nil {
			t.Fatal(err)
		}
		builtin = cat.All()
	})
	set := manifest.Load(paths, manifest.Options{})
	if len(set.Errors) > 0 {
		t.Errorf("read the branch's files: %v", set.Errors)
	}
	n := 0
	for _, o := range set.Objects {
		for _, res := range check.Run(builtin, o, check.Options{}) {
			f := res.Finding
			if f.Suppression == nil && f.Fixability == finding.FixAuto && f.Severity >= config.DefaultMinSeverity {
				n++
			}
		}
	}
	return n
}

// Events of one repository handled at once by several workers: the work
// on a repository is serialized, so one pull request, its continuation
// comments once, and no handler error.
func TestSameRepositoryConcurrently(t *testing.T) {
	h := startHarness(t, harnessOptions{Workers: 6, QueueSize: 16})
	files := map[string][]byte{}
	for k := 0; k < 8; k++ {
		files[fmt.Sprintf("apps/s%02d/storefront.yaml", k)] = fixture(t, "apps/storefront/storefront.yaml")
	}
	h.fake.AddRepo(owner, name, files)
	h.inst = h.fake.Install(owner)
	var ids []string
	for i := range 6 {
		id := deliveryID("same", i)
		ids = append(ids, id)
		if code := h.deliver("push", id, h.push("apps/s00/storefront.yaml"), h.fake.App().WebhookSecret); code != http.StatusAccepted {
			t.Fatalf("delivery %s: %d", id, code)
		}
	}
	if !h.rec.wait(3*time.Minute, func(r *recorder) bool {
		for _, id := range ids {
			if r.times[id] == 0 {
				return false
			}
		}
		return true
	}) {
		t.Fatal("deliveries not handled")
	}
	for id, e := range h.rec.errors() {
		t.Errorf("delivery %s: %v", id, e)
	}
	prs := h.fake.PRs(owner, name)
	if len(prs) != 1 || prs[0].State != "open" {
		t.Fatalf("pull requests: %s, want one open", prSummary(prs))
	}
	m := continued.FindStringSubmatch(prs[0].Body)
	if m == nil {
		t.Fatal("the body is not continued in comments")
	}
	if cs := h.fake.Comments(owner, name, prs[0].Number); strconv.Itoa(len(cs)) != m[1] {
		t.Errorf("%d comments, want %s", len(cs), m[1])
	}
	h.checkNoHalfState(repoRef{owner, name, h.inst})
}
