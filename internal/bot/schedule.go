package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/kmend/kmend/internal/config"
	"github.com/kmend/kmend/internal/publish"
)

// Scheduler scans the repositories whose settings ask for it (schedule:
// in .github/kmend.yaml) without waiting for a push: each Tick looks at
// every installation's repositories and syncs those whose schedule came
// due since the last time it looked. The first look at a repository only
// starts its clock, so a restart does not scan everything at once.
type Scheduler struct {
	Bot    *Bot
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu   sync.Mutex
	last map[string]time.Time
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Run ticks every interval until ctx ends; a failed tick is logged.
func (s *Scheduler) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Tick(ctx); err != nil {
				s.log().Warn("scheduled scans", "error", err)
			}
		}
	}
}

func (s *Scheduler) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Tick syncs every repository whose schedule is due and returns how many
// it synced. One repository's failure does not stop the others.
func (s *Scheduler) Tick(ctx context.Context) (int, error) {
	s.mu.Lock()
	if s.last == nil {
		s.last = map[string]time.Time{}
	}
	s.mu.Unlock()
	app := s.Bot.opts.App
	var installs []*github.Installation
	opts := &github.ListOptions{PerPage: 100}
	for {
		page, resp, err := app.Client().Apps.ListInstallations(ctx, opts)
		if err != nil {
			return 0, fmt.Errorf("list installations: %w", err)
		}
		installs = append(installs, page...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	ran := 0
	var errs []error
	for _, inst := range installs {
		client := app.Installation(inst.GetID())
		repos, _, err := client.Apps.ListRepos(ctx, &github.ListOptions{PerPage: 100})
		if err != nil {
			errs = append(errs, fmt.Errorf("installation %d: %w", inst.GetID(), err))
			continue
		}
		for _, r := range repos.Repositories {
			if r.GetArchived() {
				continue
			}
			due, err := s.due(ctx, client, inst.GetID(), r)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if !due {
				continue
			}
			repo := publish.Repo{Owner: r.GetOwner().GetLogin(), Name: r.GetName()}
			log := s.log().With("installation", inst.GetID(), "repo", repo.String(), "trigger", "schedule")
			if _, err := s.Bot.Sync(ctx, inst.GetID(), repo, log); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", repo, err))
				continue
			}
			ran++
		}
	}
	return ran, errors.Join(errs...)
}

// due reads a repository's schedule and says whether it came due since
// the last look (and records this look).
func (s *Scheduler) due(ctx context.Context, client *github.Client, inst int64, r *github.Repository) (bool, error) {
	owner, name := r.GetOwner().GetLogin(), r.GetName()
	fc, _, resp, err := client.Repositories.GetContents(ctx, owner, name, config.RepoFile, &github.RepositoryContentGetOptions{Ref: r.GetDefaultBranch()})
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			return false, nil
		}
		return false, fmt.Errorf("%s/%s: %s: %w", owner, name, config.RepoFile, err)
	}
	raw, err := fc.GetContent()
	if err != nil {
		return false, fmt.Errorf("%s/%s: %s: %w", owner, name, config.RepoFile, err)
	}
	cfg, err := config.Parse([]byte(raw), config.RepoFile)
	if err != nil || strings.TrimSpace(cfg.Schedule) == "" {
		return false, nil // a bad file is reported on push, not here
	}
	sched, err := config.ParseSchedule(cfg.Schedule)
	if err != nil {
		return false, nil
	}
	key := fmt.Sprintf("%d/%s/%s", inst, owner, name)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	last, seen := s.last[key]
	if !seen {
		s.last[key] = now
		return false, nil
	}
	if sched.Next(last).After(now) {
		return false, nil
	}
	s.last[key] = now
	return true, nil
}
