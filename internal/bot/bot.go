// Package bot is kmend's GitHub App behaviour: thin handlers, one per
// event, that decode, guard, and hand the work to package publish.
//
//   - installation created, repositories added: an onboarding pull request
//     per repository (what kmend found, a starter .github/kmend.yaml), as
//     Renovate does; a repository that has the file already, or had an
//     onboarding pull request before, gets none;
//   - push to the default branch that touches YAML (or the settings
//     file): scan the branch and open, update or close the fix pull
//     requests;
//   - pull request merged (one of kmend's): scan again, closing the loop.
//
// Every handler is idempotent: the branch names are deterministic, the
// pull requests carry their own state, and a replayed delivery changes
// nothing.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/go-github/v60/github"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/config"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/ghapp"
	"github.com/kmend/kmend/internal/gitrepo"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/publish"
	"github.com/kmend/kmend/internal/render"
	"github.com/kmend/kmend/internal/score"
	"github.com/kmend/kmend/internal/webhook"
)

// Options configure the Bot.
type Options struct {
	App      *ghapp.App
	Controls []*catalog.Control
	Check    check.Options
	// Slug and BotUserID name the App's bot user, the commits' author;
	// Author, when set, is asked instead (the identity may be learnt
	// after start).
	Slug      string
	BotUserID int64
	Author    func() gitrepo.Author
	// WorkDir holds the clones while they are worked on; os.TempDir()
	// when empty.
	WorkDir string
	// WebURL is GitHub's web root for links ("https://github.com").
	WebURL string
}

// Bot handles the App's events.
type Bot struct {
	opts  Options
	locks repoLocks
}

// New makes a Bot.
func New(opts Options) (*Bot, error) {
	if opts.App == nil {
		return nil, errors.New("bot: no GitHub App")
	}
	if opts.Slug == "" {
		opts.Slug = "kmend"
	}
	if opts.Author == nil {
		a := gitrepo.BotIdentity(opts.Slug, opts.BotUserID)
		opts.Author = func() gitrepo.Author { return a }
	}
	if opts.WebURL == "" {
		opts.WebURL = "https://github.com"
	}
	return &Bot{opts: opts, locks: repoLocks{held: map[string]*repoLock{}}}, nil
}

// repoLocks serialize the work on each repository. The queue's workers
// handle events in parallel, and two events of one repository (two quick
// pushes, a redelivery, an installation event and a push) would otherwise
// race: both clone, both push the same branch (one push fails on the
// remote's ref lock, or a clone taken before the newer push finishes last
// and leaves the branch and the body stale), both create the pull request
// or post the same comments. Holding the lock from before the clone to
// the end makes the last event's work start from the newest base.
type repoLocks struct {
	mu   sync.Mutex
	held map[string]*repoLock
}

type repoLock struct {
	ch   chan struct{} // holds one token while locked
	refs int           // holders and waiters
}

// lock waits for the repository's lock or for ctx to end; unlock releases
// it.
func (l *repoLocks) lock(ctx context.Context, inst int64, repo publish.Repo) (unlock func(), err error) {
	key := strconv.FormatInt(inst, 10) + "/" + strings.ToLower(repo.String())
	l.mu.Lock()
	rl := l.held[key]
	if rl == nil {
		rl = &repoLock{ch: make(chan struct{}, 1)}
		l.held[key] = rl
	}
	rl.refs++
	l.mu.Unlock()
	release := func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if rl.refs--; rl.refs == 0 {
			delete(l.held, key)
		}
	}
	select {
	case rl.ch <- struct{}{}:
		return func() { <-rl.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, fmt.Errorf("%s: waiting for the work on it to end: %w", repo, ctx.Err())
	}
}

// Handlers are the Bot's handlers by event type.
func (b *Bot) Handlers() map[string]webhook.Handler {
	return map[string]webhook.Handler{
		"installation":              webhook.HandlerFunc(b.installation),
		"installation_repositories": webhook.HandlerFunc(b.installationRepositories),
		"push":                      webhook.HandlerFunc(b.push),
		"pull_request":              webhook.HandlerFunc(b.pullRequest),
	}
}

// Register puts the Bot's handlers on a queue.
func (b *Bot) Register(q *webhook.Queue) {
	for event, h := range b.Handlers() {
		q.Register(event, h)
	}
}

func (b *Bot) installation(ctx context.Context, ev webhook.Event) error {
	e, ok := ev.Payload.(*github.InstallationEvent)
	if !ok || e.GetAction() != "created" {
		return nil
	}
	return b.onboardAll(ctx, ev, e.GetInstallation().GetID(), e.Repositories)
}

func (b *Bot) installationRepositories(ctx context.Context, ev webhook.Event) error {
	e, ok := ev.Payload.(*github.InstallationRepositoriesEvent)
	if !ok || e.GetAction() != "added" {
		return nil
	}
	return b.onboardAll(ctx, ev, e.GetInstallation().GetID(), e.RepositoriesAdded)
}

func (b *Bot) onboardAll(ctx context.Context, ev webhook.Event, inst int64, repos []*github.Repository) error {
	var errs []error
	for _, r := range repos {
		owner, name, ok := strings.Cut(r.GetFullName(), "/")
		if !ok {
			continue
		}
		repo := publish.Repo{Owner: owner, Name: name}
		log := ev.Logger.With("repo", repo.String())
		if err := b.Onboard(ctx, inst, repo, log); err != nil {
			log.Error("onboarding failed", "error", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (b *Bot) push(ctx context.Context, ev webhook.Event) error {
	e, ok := ev.Payload.(*github.PushEvent)
	if !ok || e.GetDeleted() {
		return nil
	}
	r := e.GetRepo()
	if e.GetRef() != "refs/heads/"+r.GetDefaultBranch() {
		return nil
	}
	if !touchesManifests(e) {
		ev.Logger.Debug("push touches no YAML: nothing to do")
		return nil
	}
	repo := publish.Repo{Owner: r.GetOwner().GetLogin(), Name: r.GetName()}
	if repo.Owner == "" {
		repo.Owner = r.GetOwner().GetName()
	}
	_, err := b.sync(ctx, ev.InstallationID, repo, ev.Logger, touches(e, config.RepoFile), nil)
	return err
}

func (b *Bot) pullRequest(ctx context.Context, ev webhook.Event) error {
	e, ok := ev.Payload.(*github.PullRequestEvent)
	if !ok {
		return nil
	}
	if e.GetAction() != "closed" {
		return b.pullRequestSettings(ctx, ev, e)
	}
	if !e.GetPullRequest().GetMerged() {
		return nil
	}
	if _, err := render.ParseMetadata(e.GetPullRequest().GetBody()); err != nil {
		return nil // not one of kmend's
	}
	r := e.GetRepo()
	repo := publish.Repo{Owner: r.GetOwner().GetLogin(), Name: r.GetName()}
	_, err := b.Sync(ctx, ev.InstallationID, repo, ev.Logger)
	return err
}

// touchesManifests reports whether a push changed a YAML file; a push
// that lists no files (too many commits) counts as touching them.
func touchesManifests(e *github.PushEvent) bool {
	return anyFile(e, func(p string) bool {
		ext := path.Ext(p)
		return ext == ".yaml" || ext == ".yml"
	})
}

// touches reports whether a push changed one file.
func touches(e *github.PushEvent, file string) bool {
	return anyFile(e, func(p string) bool { return p == file })
}

func anyFile(e *github.PushEvent, match func(string) bool) bool {
	if len(e.Commits) == 0 && e.GetHeadCommit() == nil {
		return true
	}
	commits := e.Commits
	if len(commits) == 0 {
		commits = []*github.HeadCommit{e.GetHeadCommit()}
	}
	for _, c := range commits {
		for _, list := range [][]string{c.Added, c.Modified, c.Removed} {
			for _, p := range list {
				if match(p) {
					return true
				}
			}
		}
	}
	return false
}

// workspace is a clone of a repository's default branch with its
// configuration, ready for publish.
type workspace struct {
	repo      publish.Repo
	base      string
	clone     *publish.Clone
	cfg       *config.Repo
	cfgDigest string
	cfgErr    error
	host      ghapp.Host
	blobURL   string
}

func (b *Bot) open(ctx context.Context, inst int64, repo publish.Repo) (*workspace, error) {
	client := b.opts.App.Installation(inst)
	gr, _, err := client.Repositories.Get(ctx, repo.Owner, repo.Name)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", repo, err)
	}
	if gr.GetArchived() {
		return nil, fmt.Errorf("%s is archived", repo)
	}
	token, err := b.opts.App.Token(ctx, inst)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(b.opts.WorkDir, "kmend-clone-")
	if err != nil {
		return nil, err
	}
	w := &workspace{repo: repo, base: gr.GetDefaultBranch(), host: ghapp.Host{Client: client}}
	clone, err := publish.NewClone(ctx, publish.CloneOptions{
		Repo: repo, URL: gr.GetCloneURL(), Token: token, Base: w.base, Dir: dir,
		Author: b.opts.Author(),
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	w.clone = clone
	w.blobURL = strings.TrimSuffix(gr.GetHTMLURL(), "/") + "/blob/" + clone.BaseSHA()
	w.cfg = config.Default()
	raw, err := os.ReadFile(dir + "/" + config.RepoFile)
	switch {
	case err == nil:
		w.cfgDigest = publish.Digest(raw)
		if cfg, perr := config.Parse(raw, config.RepoFile); perr != nil {
			w.cfgErr = perr
		} else {
			w.cfg = cfg
		}
	case errors.Is(err, os.ErrNotExist):
		w.cfgDigest = publish.Digest(nil)
	default:
		clone.Close()
		return nil, err
	}
	if w.cfg.Commits == config.CommitsAPI {
		// Commits go through the Git Data API, so GitHub signs them.
		clone.UseAPI(gitrepo.GitHubData{Client: client})
	}
	return w, nil
}

// Sync scans a repository's default branch and opens, updates or closes
// its fix pull requests.
func (b *Bot) Sync(ctx context.Context, inst int64, repo publish.Repo, log *slog.Logger) ([]publish.Outcome, error) {
	return b.sync(ctx, inst, repo, log, false, nil)
}

// Selection narrows a sync to some findings, in one change set: the live
// findings of a cluster traced to the repository (kmend fix --open-pr).
type Selection struct {
	Group render.Group
	// Only is given the clone's directory and returns the filter of the
	// findings to fix there (positions relative to the clone).
	Only func(dir string) (func(finding.Finding) bool, error)
}

// SyncSelected is Sync for the findings a Selection accepts, in its one
// change set.
func (b *Bot) SyncSelected(ctx context.Context, inst int64, repo publish.Repo, log *slog.Logger, sel Selection) ([]publish.Outcome, error) {
	return b.sync(ctx, inst, repo, log, false, &sel)
}

// sync is Sync; reportSettings asks for a check run on the settings file
// even when it is valid (the push changed it).
func (b *Bot) sync(ctx context.Context, inst int64, repo publish.Repo, log *slog.Logger, reportSettings bool, sel *Selection) ([]publish.Outcome, error) {
	var calls atomic.Int64
	ctx = ghapp.WithCallCounter(ctx, &calls)
	defer func() { log.Info("GitHub API calls", "calls", calls.Load()) }()
	unlock, err := b.locks.lock(ctx, inst, repo)
	if err != nil {
		return nil, err
	}
	defer unlock()
	w, err := b.open(ctx, inst, repo)
	if err != nil {
		return nil, err
	}
	defer w.clone.Close()
	if w.cfgErr != nil || reportSettings {
		if err := configCheck(ctx, w.host.Client, repo, w.clone.BaseSHA(), w.cfgErr); err != nil {
			return nil, err
		}
	}
	if w.cfgErr != nil {
		// A broken settings file stops nothing else, but kmend does not
		// guess: the check run says what is wrong, and kmend waits for a
		// fix.
		log.Warn("repository configuration is invalid; nothing published", "error", w.cfgErr)
		return nil, nil
	}
	popts := publish.Options{
		Repo: repo, Base: w.base, Config: w.cfg, ConfigDigest: w.cfgDigest,
		Controls: b.opts.Controls, Check: b.opts.Check,
		Host: w.host, Git: w.clone, BlobURL: w.blobURL, Logger: log,
	}
	if sel != nil {
		only, err := sel.Only(w.clone.Dir())
		if err != nil {
			return nil, err
		}
		popts.Only, popts.Group = only, &sel.Group
	}
	outs, err := publish.Run(ctx, popts)
	for _, o := range outs {
		log.Info("change set", "group", o.Group, "action", string(o.Action), "pr", o.PR, "fixed", o.Fixed)
	}
	return outs, err
}

// Onboard opens the onboarding pull request of a repository that has no
// settings file and never had one.
func (b *Bot) Onboard(ctx context.Context, inst int64, repo publish.Repo, log *slog.Logger) error {
	unlock, err := b.locks.lock(ctx, inst, repo)
	if err != nil {
		return err
	}
	defer unlock()
	w, err := b.open(ctx, inst, repo)
	if err != nil {
		return err
	}
	defer w.clone.Close()
	if w.cfgDigest != publish.Digest(nil) {
		log.Info("repository has its settings file: no onboarding")
		return nil
	}
	branch := config.Default().BranchPrefix + "onboarding"
	prs, err := w.host.PullRequests(ctx, repo, branch)
	if err != nil {
		return err
	}
	if len(prs) > 0 {
		log.Info("onboarding pull request exists already", "pr", prs[0].Number, "state", prs[0].State)
		return nil
	}
	set := manifest.Load([]string{w.clone.Dir()}, manifest.Options{})
	rel := strings.TrimSuffix(w.clone.Dir(), "/") + "/"
	relative := func(f finding.Finding) finding.Finding {
		f.Position.File = strings.TrimPrefix(f.Position.File, rel)
		return f
	}
	var results []check.Result
	var fs []finding.Finding
	for _, o := range set.Objects {
		for _, r := range check.Run(b.opts.Controls, o, b.opts.Check) {
			results = append(results, r)
			if r.Finding.Suppression == nil {
				fs = append(fs, relative(r.Finding))
			}
		}
	}
	// The score matches results to objects by file: it is computed on
	// the clone's paths, shown with the repository's.
	sc := score.Compute(set.Objects, b.opts.Controls, results)
	overall := sc.Overall.Score
	var top []finding.Finding
	for _, r := range sc.Ranked {
		top = append(top, relative(*r.Finding))
	}
	text, err := render.Onboarding(render.OnboardingInput{
		Repo: repo.String(), Base: w.base, Head: branch,
		Findings: fs, Top: top, Score: &overall,
		Files: len(set.Files), Objects: len(set.Objects), Controls: len(b.opts.Controls),
		Catalog: render.CatalogDigest(b.opts.Controls),
		Options: render.Options{BlobURL: w.blobURL},
	})
	if err != nil {
		return err
	}
	files := map[string][]byte{render.StarterConfigPath: []byte(render.StarterConfig())}
	if _, err := w.clone.Publish(ctx, branch, "kmend: add "+render.StarterConfigPath+"\n", files); err != nil {
		return err
	}
	pr, err := w.host.CreatePullRequest(ctx, repo, publish.NewPullRequest{Title: text.Title, Body: text.Body, Head: branch, Base: w.base})
	if errors.Is(err, publish.ErrExists) {
		// Opened by an earlier attempt whose answer was lost.
		log.Info("onboarding pull request exists already")
		return nil
	}
	if err != nil {
		return err
	}
	log.Info("onboarding pull request opened", "pr", pr.Number)
	return nil
}
