package bot

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/kmend/kmend/internal/config"
	"github.com/kmend/kmend/internal/publish"
	"github.com/kmend/kmend/internal/webhook"
)

// CheckName is the check run kmend reports its settings file's validity
// on.
const CheckName = "kmend / settings"

// configCheck reports a settings file's validity as a check run on a
// commit: success, or failure with one annotation per problem (file, line,
// key). A bad file stops nothing but kmend's own work on that repository.
func configCheck(ctx context.Context, client *github.Client, repo publish.Repo, sha string, cfgErr error) error {
	opts := github.CreateCheckRunOptions{
		Name:       CheckName,
		HeadSHA:    sha,
		Status:     github.String("completed"),
		Conclusion: github.String("success"),
		Output: &github.CheckRunOutput{
			Title:   github.String(config.RepoFile + " is valid"),
			Summary: github.String("kmend reads its settings from " + config.RepoFile + "; this version is valid."),
		},
	}
	if cfgErr != nil {
		problems := config.Errors(cfgErr)
		var lines []string
		var notes []*github.CheckRunAnnotation
		for _, p := range problems {
			lines = append(lines, "- "+p.Error())
			line := max(p.Line, 1)
			if len(notes) < 50 { // GitHub takes at most 50 per request
				notes = append(notes, &github.CheckRunAnnotation{
					Path: github.String(config.RepoFile), StartLine: github.Int(line), EndLine: github.Int(line),
					AnnotationLevel: github.String("failure"), Message: github.String(p.Error()),
				})
			}
		}
		if len(problems) == 0 {
			lines = append(lines, "- "+cfgErr.Error())
		}
		opts.Conclusion = github.String("failure")
		opts.Output = &github.CheckRunOutput{
			Title: github.String(fmt.Sprintf("%s has %d problem(s)", config.RepoFile, max(len(problems), 1))),
			Summary: github.String("kmend cannot use these settings, so it changes nothing in this repository until they are fixed " +
				"(its pull requests stay as they are):\n\n" + strings.Join(lines, "\n") + "\n\nThe settings are described in kmend's docs/config.md."),
			Annotations: notes,
		}
	}
	if _, _, err := client.Checks.CreateCheckRun(ctx, repo.Owner, repo.Name, opts); err != nil {
		return fmt.Errorf("check run on %s@%s: %w", repo, sha, err)
	}
	return nil
}

// pullRequestSettings checks the settings file of a pull request that
// changes it, on the pull request's head commit.
func (b *Bot) pullRequestSettings(ctx context.Context, ev webhook.Event, e *github.PullRequestEvent) error {
	switch e.GetAction() {
	case "opened", "synchronize", "reopened":
	default:
		return nil
	}
	pr := e.GetPullRequest()
	if pr.GetHead().GetRepo().GetFullName() != e.GetRepo().GetFullName() {
		return nil // a fork: its files are not the repository's to judge
	}
	repo := publish.Repo{Owner: e.GetRepo().GetOwner().GetLogin(), Name: e.GetRepo().GetName()}
	client := b.opts.App.Installation(ev.InstallationID)
	files, _, err := client.PullRequests.ListFiles(ctx, repo.Owner, repo.Name, pr.GetNumber(), &github.ListOptions{PerPage: 100})
	if err != nil {
		return fmt.Errorf("files of %s#%d: %w", repo, pr.GetNumber(), err)
	}
	touched := false
	for _, f := range files {
		if f.GetFilename() == config.RepoFile && f.GetStatus() != "removed" {
			touched = true
		}
	}
	if !touched {
		return nil
	}
	sha := pr.GetHead().GetSHA()
	fc, _, resp, err := client.Repositories.GetContents(ctx, repo.Owner, repo.Name, config.RepoFile, &github.RepositoryContentGetOptions{Ref: sha})
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			return nil
		}
		return fmt.Errorf("%s of %s@%s: %w", config.RepoFile, repo, sha, err)
	}
	raw, err := fc.GetContent()
	if err != nil {
		return fmt.Errorf("%s of %s@%s: %w", config.RepoFile, repo, sha, err)
	}
	_, cfgErr := config.Parse([]byte(raw), config.RepoFile)
	ev.Logger.Info("settings file checked", "valid", cfgErr == nil)
	return configCheck(ctx, client, repo, sha, cfgErr)
}
