package bot

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkWebhookToPR measures the App loop against the local GitHub
// stand-in and git server: a push to a repository with risky manifests is
// delivered to the real receiver, one at a time, each on its own
// repository, and timed from the receiver's 202 to the pull request
// opened (GitHub's 201 to POST /pulls) and to the handler's end (labels
// set). It reports the median and 95th percentile of both, in ms, and the
// GitHub API calls per pull request (every call made while handling, over
// the pull requests opened). One untimed delivery first warms the
// installation token (kept an hour) and the catalog. Run it with a fixed
// count: -benchtime=40x.
func BenchmarkWebhookToPR(b *testing.B) {
	h := startHarness(b, harnessOptions{Workers: 2})
	storefront := fixture(b, "apps/storefront/storefront.yaml")
	repo := func(i int) repoRef {
		nm := fmt.Sprintf("svc-%03d", i)
		h.fake.AddRepo("acme", nm, map[string][]byte{
			"apps/storefront/storefront.yaml": storefront,
			"README.md":                       []byte("# " + nm + "\n"),
		})
		return repoRef{"acme", nm, h.fake.Install("acme")}
	}

	var mu sync.Mutex
	opened := map[string]time.Time{} // repository → when its pull request was opened
	h.setIntercept(func(req *http.Request, next http.RoundTripper) (*http.Response, error) {
		resp, err := next.RoundTrip(req)
		if err == nil && isCreatePR(req) && resp.StatusCode == http.StatusCreated {
			at := time.Now()
			p := strings.Split(strings.TrimPrefix(req.URL.Path, "/"), "/") // repos/{owner}/{repo}/pulls
			mu.Lock()
			opened[p[1]+"/"+p[2]] = at
			mu.Unlock()
		}
		return resp, err
	})
	secret := h.fake.App().WebhookSecret
	run := func(r repoRef, id string) (toPR, toDone time.Duration, calls int) {
		body := h.pushFor(r, "main", "apps/storefront/storefront.yaml")
		before := h.fake.TotalCalls()
		if code := h.deliver("push", id, body, secret); code != http.StatusAccepted {
			b.Fatalf("delivery %s: %d", id, code)
		}
		accepted := time.Now()
		if !h.rec.wait(2*time.Minute, func(rc *recorder) bool { return rc.times[id] > 0 }) {
			b.Fatalf("delivery %s not handled", id)
		}
		if errs := h.rec.errors()[id]; len(errs) > 0 {
			b.Fatalf("delivery %s: %v", id, errs)
		}
		h.rec.mu.Lock()
		done := h.rec.at[id]
		h.rec.mu.Unlock()
		mu.Lock()
		at, ok := opened[r.String()]
		mu.Unlock()
		if !ok {
			b.Fatalf("%s: no pull request opened", r)
		}
		if prs := h.fake.PRs(r.owner, r.name); len(prs) != 1 || prs[0].State != "open" {
			b.Fatalf("%s: pull requests %s", r, prSummary(prs))
		}
		return at.Sub(accepted), done.Sub(accepted), h.fake.TotalCalls() - before
	}

	run(repo(0), "bench-warm")
	repos := make([]repoRef, b.N)
	for i := range repos {
		repos[i] = repo(i + 1)
	}
	var toPR, toDone []time.Duration
	calls := 0
	b.ResetTimer()
	for i, r := range repos {
		p, d, c := run(r, deliveryID("bench", i))
		toPR, toDone, calls = append(toPR, p), append(toDone, d), calls+c
	}
	b.StopTimer()
	b.ReportMetric(ms(percentile(toPR, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(toPR, 95)), "p95-ms")
	b.ReportMetric(ms(percentile(toDone, 50)), "done-p50-ms")
	b.ReportMetric(ms(percentile(toDone, 95)), "done-p95-ms")
	b.ReportMetric(float64(calls)/float64(b.N), "calls/PR")
	b.ReportMetric(float64(b.N), "PRs")
}

// percentile is the nearest-rank percentile p of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func TestPercentile(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{50, 5}, {95, 10}, {10, 1}, {100, 10}, {1, 1}} {
		if got := percentile(ds, tc.p); got != tc.want {
			t.Errorf("percentile %v = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile of nothing = %v", got)
	}
}
