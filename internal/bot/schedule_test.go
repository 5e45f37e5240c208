package bot

import (
	"context"
	"testing"
	"time"
)

// A repository whose settings say schedule: @hourly is scanned once an
// hour without a push; one without a schedule is not; the first look only
// starts the clock.
func TestScheduledScan(t *testing.T) {
	h := startHarness(t, harnessOptions{})
	h.fake.AddRepo(owner, name, map[string][]byte{
		"apps/storefront/storefront.yaml": fixture(t, "apps/storefront/storefront.yaml"),
		".github/kmend.yaml":              []byte("version: 1\nschedule: \"@hourly\"\n"),
	})
	h.fake.AddRepo(owner, "unscheduled", map[string][]byte{"apps/storefront/storefront.yaml": fixture(t, "apps/storefront/storefront.yaml")})
	h.inst = h.fake.Install(owner, name, "unscheduled")
	now := time.Date(2026, 11, 23, 10, 5, 0, 0, time.UTC)
	s := &Scheduler{Bot: h.bot, Now: func() time.Time { return now }}
	ctx := context.Background()

	if n, err := s.Tick(ctx); err != nil || n != 0 {
		t.Fatalf("first tick: %d scans, %v; want 0 (it starts the clock)", n, err)
	}
	now = now.Add(30 * time.Minute) // 10:35: the 11:00 run is not due
	if n, err := s.Tick(ctx); err != nil || n != 0 {
		t.Fatalf("at 10:35: %d scans, %v", n, err)
	}
	if len(h.fake.PRs(owner, name)) != 0 {
		t.Fatal("a pull request before the schedule came due")
	}
	now = now.Add(30 * time.Minute) // 11:05
	if n, err := s.Tick(ctx); err != nil || n != 1 {
		t.Fatalf("at 11:05: %d scans, %v; want 1", n, err)
	}
	if prs := h.fake.PRs(owner, name); len(prs) != 1 {
		t.Fatalf("scheduled scan: %d pull requests", len(prs))
	}
	if prs := h.fake.PRs(owner, "unscheduled"); len(prs) != 0 {
		t.Fatalf("a repository without a schedule was scanned: %+v", prs)
	}
	if n, _ := s.Tick(ctx); n != 0 {
		t.Fatalf("the same hour again: %d scans", n)
	}
}
