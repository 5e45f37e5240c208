package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/config"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/lazyre"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/remediate"
	"github.com/kmend/kmend/internal/render"
)

// Options say what to publish where.
type Options struct {
	Repo Repo
	// Base is the branch the pull requests merge into (the default
	// branch).
	Base string
	// Config is the repository's configuration (config.Default() when it
	// has none); ConfigDigest identifies it (see Digest), so that a
	// declined pull request is proposed again when the configuration
	// changes.
	Config       *config.Repo
	ConfigDigest string
	// Controls is the whole catalog; Config selects from it.
	Controls []*catalog.Control
	Check    check.Options
	Host     Host
	Git      Git
	// BlobURL, when set, links file:line in bodies to the base commit
	// ("https://github.com/acme/shop/blob/<sha>").
	BlobURL string
	// Only, when set, narrows the findings to those it accepts (their
	// positions relative to the clone); Group, when set, puts them all in
	// one change set with that key and title instead of the
	// configuration's grouping. kmend fix --open-pr uses both: the live
	// findings of a cluster, traced to this repository.
	Only   func(finding.Finding) bool
	Group  *render.Group
	Logger *slog.Logger
}

// Action is what publish did for one change set.
type Action string

// Actions.
const (
	Created   Action = "created"   // a pull request was opened
	Updated   Action = "updated"   // the open pull request got a new branch or text
	Unchanged Action = "unchanged" // the open pull request already said and did this
	Declined  Action = "declined"  // a closed pull request declined these findings
	Closed    Action = "closed"    // nothing left to fix: the open pull request was closed
)

// Outcome is what happened to one change set.
type Outcome struct {
	Group  string
	Branch string
	Action Action
	// PR is the pull request's number and URL (0 and "" when declined).
	PR  int
	URL string
	// Fixed counts the findings the change set fixes; Left those it lists
	// for review or by hand.
	Fixed, Left int
}

// Digest identifies configuration bytes (a missing file is nil).
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])[:12]
}

// commentMarker marks the comments that continue a pull request's body.
const commentMarker = "<!-- kmend:continued -->"

// resolvedMarker ends the body of a pull request kmend closed because its
// findings were gone from the base: it declines nothing.
const resolvedMarker = "<!-- kmend:resolved -->"

// Run scans the clone, groups what it can fix, and opens, updates or
// closes one pull request per group. A failure in one group does not stop
// the others; the errors are joined.
func Run(ctx context.Context, opts Options) ([]Outcome, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := opts.Config
	if cfg == nil {
		cfg = config.Default()
	}
	var controls []*catalog.Control
	for _, c := range opts.Controls {
		if cfg.ControlEnabled(c.ID) {
			controls = append(controls, c)
		}
	}
	dir := opts.Git.Dir()
	files, err := manifests(dir, cfg)
	if err != nil {
		return nil, err
	}
	set := manifest.Load(files, manifest.Options{})
	for _, e := range set.Errors {
		log.Info("file not read", "error", e.Error())
	}
	rem := remediate.Options{MinSeverity: cfg.MinSeverity, Check: opts.Check}

	// Every finding, by group; a group is worth a pull request when it
	// has something kmend can fix.
	groups := map[string]*group{}
	for _, o := range set.Objects {
		for _, r := range check.Run(controls, o, opts.Check) {
			f := r.Finding
			if f.Suppression != nil || f.Severity < cfg.MinSeverity {
				continue
			}
			f.Position.File = relative(dir, f.Position.File)
			if opts.Only != nil && !opts.Only(f) {
				continue
			}
			key, title := groupOf(cfg.Grouping, f)
			if opts.Group != nil {
				key, title = opts.Group.Key, opts.Group.Title
			}
			g := groups[key]
			if g == nil {
				g = &group{key: key, title: title, members: map[string]bool{}}
				groups[key] = g
			}
			g.members[f.Fingerprint()] = true
			if f.Fixability == finding.FixAuto {
				g.fixable++
			}
		}
	}
	// Groups whose pull requests are open must be visited even when their
	// findings are gone: those are closed.
	if err := addOpenGroups(ctx, opts, cfg, groups); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)

	var outcomes []Outcome
	var errs []error
	for _, key := range keys {
		g := groups[key]
		out, err := publishGroup(ctx, opts, cfg, controls, set, rem, g, log)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: change set %s: %w", opts.Repo, key, err))
			continue
		}
		if out != nil {
			outcomes = append(outcomes, *out)
		}
	}
	return outcomes, errors.Join(errs...)
}

// addOpenGroups adds to groups, without findings, the groups that have
// no finding left but may have an open pull request: the repository's one
// group (no call), or those of kmend's open pull requests (one call).
func addOpenGroups(ctx context.Context, opts Options, cfg *config.Repo, groups map[string]*group) error {
	if opts.Group != nil {
		if groups[opts.Group.Key] == nil {
			groups[opts.Group.Key] = &group{key: opts.Group.Key, title: opts.Group.Title, members: map[string]bool{}}
		}
		return nil
	}
	switch cfg.Grouping {
	case config.GroupByControl, config.GroupBySeverity, config.GroupByDirectory:
	default:
		key, title := groupOf(cfg.Grouping, finding.Finding{})
		if groups[key] == nil {
			groups[key] = &group{key: key, title: title, members: map[string]bool{}}
		}
		return nil
	}
	prs, err := opts.Host.OpenPullRequests(ctx, opts.Repo, opts.Base)
	if err != nil {
		return fmt.Errorf("%s: list open pull requests: %w", opts.Repo, err)
	}
	for _, pr := range prs {
		meta, err := render.ParseMetadata(pr.Body)
		if err != nil || meta.Kind != render.KindFix || groups[meta.Group] != nil {
			continue
		}
		// Only groups of the current grouping, on their own branch: a
		// pull request of another grouping is left as it is.
		if !strings.HasPrefix(meta.Group, string(cfg.Grouping)+"/") || pr.Head != BranchName(cfg.BranchPrefix, opts.Base, meta.Group) {
			continue
		}
		groups[meta.Group] = &group{key: meta.Group, members: map[string]bool{}}
	}
	return nil
}

type group struct {
	key, title string
	members    map[string]bool // fingerprints of the group's findings
	fixable    int
}

func publishGroup(ctx context.Context, opts Options, cfg *config.Repo, controls []*catalog.Control, set *manifest.Set, rem remediate.Options, g *group, log *slog.Logger) (*Outcome, error) {
	branch := BranchName(cfg.BranchPrefix, opts.Base, g.key)
	log = log.With("group", g.key, "branch", branch)
	prs, err := opts.Host.PullRequests(ctx, opts.Repo, branch)
	if err != nil {
		return nil, fmt.Errorf("list pull requests: %w", err)
	}
	var open *PullRequest
	declined := map[string]bool{}
	for i := range prs {
		pr := &prs[i]
		switch {
		case pr.State == "open" && open == nil:
			open = pr
		case pr.State == "closed" && !pr.Merged && !strings.Contains(pr.Body, resolvedMarker):
			// Closed by a person (kmend's own closing marks the body):
			// its findings are declined.
			meta, err := render.ParseMetadata(pr.Body)
			if err != nil {
				continue // not ours, or edited beyond recognition
			}
			if meta.Config == opts.ConfigDigest && meta.Catalog == render.CatalogDigest(controls) {
				for _, fp := range meta.Fingerprints {
					declined[fp] = true
				}
			}
		}
	}
	out := &Outcome{Group: g.key, Branch: branch}

	if g.fixable == 0 {
		if open == nil {
			return nil, nil
		}
		return closeResolved(ctx, opts, open, out, log)
	}
	rem.Select = func(f finding.Finding) bool {
		fp := f.Fingerprint()
		return g.members[fp] && (open != nil || !declined[fp])
	}
	results := remediate.Run(set, controls, rem)
	relativizeResults(opts.Git.Dir(), results)
	cs, err := render.FromResults(results, controls, opts.Check)
	if err != nil {
		return nil, err
	}
	cs.Left = slices.DeleteFunc(cs.Left, func(l render.Left) bool { return !g.members[l.Finding.Fingerprint()] })
	if len(cs.Fixes) == 0 {
		if open != nil {
			return closeResolved(ctx, opts, open, out, log)
		}
		out.Action = Declined
		log.Info("declined before: not proposed again", "findings", g.fixable)
		return out, nil
	}
	cs.Repo, cs.Base, cs.Head = opts.Repo.String(), opts.Base, branch
	cs.Group = render.Group{Key: g.key, Title: g.title}
	cs.Config = opts.ConfigDigest
	text, err := render.PR(cs, render.Options{BlobURL: opts.BlobURL})
	if err != nil {
		return nil, err
	}
	for _, fx := range cs.Fixes {
		out.Fixed += len(fx.Findings)
	}
	out.Left = len(cs.Left)

	changed := map[string][]byte{}
	for _, r := range results {
		if r.Changed() {
			changed[filepath.ToSlash(r.Path)] = r.After
		}
	}
	pushed, err := opts.Git.Publish(ctx, branch, commitMessage(text.Title, cs), changed)
	if err != nil {
		return nil, fmt.Errorf("publish branch: %w", err)
	}
	if open != nil {
		out.PR, out.URL = open.Number, open.URL
		out.Action = Unchanged
		if pushed {
			out.Action = Updated
		}
		if open.Title != text.Title || open.Body != text.Body {
			if err := opts.Host.EditPullRequest(ctx, opts.Repo, open.Number, text.Title, text.Body); err != nil {
				return nil, fmt.Errorf("edit pull request #%d: %w", open.Number, err)
			}
			out.Action = Updated
		}
		if out.Action == Updated {
			if err := opts.Host.SyncComments(ctx, opts.Repo, open.Number, commentMarker, marked(text.Comments)); err != nil {
				return nil, fmt.Errorf("comments of pull request #%d: %w", open.Number, err)
			}
		}
		log.Info("pull request "+string(out.Action), "pr", out.PR, "fixed", out.Fixed)
		return out, nil
	}
	pr, err := opts.Host.CreatePullRequest(ctx, opts.Repo, NewPullRequest{Title: text.Title, Body: text.Body, Head: branch, Base: opts.Base})
	if errors.Is(err, ErrExists) {
		// Opened already, by an earlier attempt whose answer was lost or
		// by another replica: take it over.
		pr, err = takeOver(ctx, opts, branch, text.Title, text.Body)
		if err == nil {
			log.Info("pull request existed already: taken over", "pr", pr.Number)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open pull request: %w", err)
	}
	out.PR, out.URL, out.Action = pr.Number, pr.URL, Created
	if err := opts.Host.Decorate(ctx, opts.Repo, pr.Number, cfg.Labels, cfg.Reviewers, cfg.Assignees); err != nil {
		// The pull request exists; a label or a reviewer that cannot be
		// set is reported, not fatal.
		log.Warn("labels, reviewers or assignees not set", "pr", pr.Number, "error", err)
	}
	if len(text.Comments) > 0 {
		if err := opts.Host.SyncComments(ctx, opts.Repo, pr.Number, commentMarker, marked(text.Comments)); err != nil {
			return nil, fmt.Errorf("comments of pull request #%d: %w", pr.Number, err)
		}
	}
	log.Info("pull request created", "pr", out.PR, "fixed", out.Fixed)
	return out, nil
}

// takeOver finds the open pull request of branch that CreatePullRequest
// said exists and gives it title and body.
func takeOver(ctx context.Context, opts Options, branch, title, body string) (PullRequest, error) {
	prs, err := opts.Host.PullRequests(ctx, opts.Repo, branch)
	if err != nil {
		return PullRequest{}, fmt.Errorf("list pull requests: %w", err)
	}
	for _, pr := range prs {
		if pr.State != "open" || pr.Base != opts.Base {
			continue
		}
		if pr.Title != title || pr.Body != body {
			if err := opts.Host.EditPullRequest(ctx, opts.Repo, pr.Number, title, body); err != nil {
				return PullRequest{}, fmt.Errorf("edit pull request #%d: %w", pr.Number, err)
			}
		}
		return pr, nil
	}
	return PullRequest{}, fmt.Errorf("%w, but %s has no open pull request", ErrExists, branch)
}

// closeResolved closes an open pull request whose findings are all gone
// from the base.
func closeResolved(ctx context.Context, opts Options, open *PullRequest, out *Outcome, log *slog.Logger) (*Outcome, error) {
	msg := fmt.Sprintf("The findings this pull request fixes are no longer in `%s`: kmend closes it. Nothing is lost: kmend opens a new pull request if they come back.", opts.Base)
	// The mark tells this closing from a person's, which declines the
	// findings.
	if !strings.Contains(open.Body, resolvedMarker) {
		if err := opts.Host.EditPullRequest(ctx, opts.Repo, open.Number, open.Title, open.Body+"\n"+resolvedMarker+"\n"); err != nil {
			return nil, fmt.Errorf("edit pull request #%d: %w", open.Number, err)
		}
	}
	if err := opts.Host.Comment(ctx, opts.Repo, open.Number, msg); err != nil {
		return nil, fmt.Errorf("comment on pull request #%d: %w", open.Number, err)
	}
	if err := opts.Host.ClosePullRequest(ctx, opts.Repo, open.Number); err != nil {
		return nil, fmt.Errorf("close pull request #%d: %w", open.Number, err)
	}
	out.PR, out.URL, out.Action = open.Number, open.URL, Closed
	log.Info("pull request closed: nothing left to fix", "pr", open.Number)
	return out, nil
}

func marked(comments []string) []string {
	out := make([]string, len(comments))
	for i, c := range comments {
		out[i] = c + "\n\n" + commentMarker
	}
	return out
}

// commitMessage is deterministic: the same change gives the same message,
// so a rebuilt branch with the same content is recognised as unchanged.
func commitMessage(title string, cs render.ChangeSet) string {
	var b strings.Builder
	b.WriteString(title)
	b.WriteString("\n\n")
	var lines []string
	for _, fx := range cs.Fixes {
		for _, f := range fx.Findings {
			l := fmt.Sprintf("- %s %s", f.ControlID, f.Object)
			if f.Container != "" {
				l += " container " + f.Container
			}
			lines = append(lines, l+" ("+fx.File+")")
		}
	}
	slices.Sort(lines)
	b.WriteString(strings.Join(slices.Compact(lines), "\n"))
	b.WriteString("\n")
	return b.String()
}

// BranchName is the branch of a change set: the prefix, a readable name
// for the group, and a short hash of the base branch and the group's key,
// so that the same group on the same base always gets the same branch.
func BranchName(prefix, base, key string) string {
	sum := sha256.Sum256([]byte(base + "\x00" + key))
	name := slug(key)
	if key == "repository" || name == "" {
		name = "harden"
	}
	return prefix + name + "-" + hex.EncodeToString(sum[:])[:8]
}

var notSlug = lazyre.New(`[^a-z0-9]+`)

func slug(key string) string {
	_, rest, found := strings.Cut(key, "/")
	if !found {
		rest = key
	}
	s := strings.Trim(notSlug.ReplaceAllString(strings.ToLower(rest), "-"), "-")
	if len(s) > 40 {
		s = strings.TrimRight(s[:40], "-")
	}
	return s
}

// groupOf is the change set a finding belongs to.
func groupOf(g config.Grouping, f finding.Finding) (key, title string) {
	switch g {
	case config.GroupByControl:
		return "control/" + f.ControlID, f.ControlID
	case config.GroupBySeverity:
		return "severity/" + f.Severity.String(), f.Severity.String() + " severity"
	case config.GroupByDirectory:
		d := filepath.ToSlash(filepath.Dir(f.Position.File))
		return "directory/" + d, d
	}
	return "repository", ""
}

// manifests lists the YAML files of the clone the configuration includes.
func manifests(dir string, cfg *config.Repo) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := relative(dir, p)
		if d.IsDir() {
			if p != dir && strings.HasPrefix(d.Name(), ".") && d.Name() != ".github" {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		ext := filepath.Ext(p)
		if (ext == ".yaml" || ext == ".yml") && cfg.Includes(rel) && rel != config.RepoFile {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list manifests: %w", err)
	}
	return out, nil
}

func relative(dir, p string) string {
	if r, err := filepath.Rel(dir, p); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return filepath.ToSlash(p)
}

// relativizeResults makes the results' paths relative to the clone, as
// the pull request shows them.
func relativizeResults(dir string, results []*remediate.FileResult) {
	fix := func(f *finding.Finding) { f.Position.File = relative(dir, f.Position.File) }
	for _, r := range results {
		r.Path = relative(dir, r.Path)
		for i := range r.Applied {
			for j := range r.Applied[i].Findings {
				fix(&r.Applied[i].Findings[j])
			}
		}
		for i := range r.Dropped {
			fix(&r.Dropped[i].Finding)
		}
		for i := range r.Left {
			fix(&r.Left[i])
		}
	}
}
