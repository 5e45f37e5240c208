package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/bot"
	"github.com/kmend/kmend/internal/config"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/ghapp"
	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/publish"
	"github.com/kmend/kmend/internal/render"
)

// runFixOpenPR fixes live findings in the repositories the source mapping
// points to, through the GitHub App: one pull request per repository for
// the cluster's findings (fix --open-pr).
func runFixOpenPR(g *globals, f *fixFlags, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if f.repo != "" {
		return withCode(exitError, errors.New("--open-pr clones the repositories the objects come from: give no --repo"))
	}
	if len(args) == 0 && !f.live.live && f.findings == "" {
		return withCode(exitError, errors.New("--open-pr: say where the live findings come from: --cluster, --findings FILE or snapshot PATHs"))
	}
	cfg, err := config.LoadServer(f.config, os.Getenv)
	if err != nil {
		return withCode(exitError, err)
	}
	var in *inputs
	if len(args) > 0 || f.live.live {
		in, err = g.prepareFrom(&f.selection, &f.live, args, stdin)
	} else {
		in, err = g.prepareCatalog(&f.selection)
	}
	if err != nil {
		return err
	}
	objects := manifest.WithoutControlled(in.set.Objects)
	live, err := liveFindings(f.findings, in, objects)
	if err != nil {
		return err
	}
	byObject := map[string][]finding.Finding{}
	refs := map[string]finding.ObjectRef{}
	for _, fd := range live {
		byObject[fd.Object.String()] = append(byObject[fd.Object.String()], fd)
		refs[fd.Object.String()] = fd.Object
	}
	nodes := map[string]*yaml.RNode{}
	for _, o := range objects {
		nodes[o.Ref.String()] = o.Node
	}
	node := func(k string) *yaml.RNode {
		if n := nodes[k]; n != nil {
			return n
		}
		return stubObject(refs[k])
	}

	// Which repositories: a first pass without checkouts.
	empty, err := os.MkdirTemp("", "kmend-empty-")
	if err != nil {
		return withCode(exitError, err)
	}
	defer os.RemoveAll(empty)
	m, err := newMapper(empty, "", &f.live, in.set.Objects)
	if err != nil {
		return withCode(exitError, err)
	}
	web, err := url.Parse(cfg.GitHubURL)
	if err != nil {
		return withCode(exitError, err)
	}
	byRepo := map[string][]string{}
	code := exitOK
	keys := make([]string, 0, len(byObject))
	for k := range byObject {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		res := m.Locate(node(k))
		switch {
		case res.Err != nil && (res.Location == nil || res.Location.Repo == ""):
			code = max(code, exitFindings)
			fmt.Fprintf(stdout, "not located  %s: %v\n", k, res.Err)
		case res.Location != nil && res.Location.Repo == "":
			code = max(code, exitFindings)
			fmt.Fprintf(stdout, "no repository %s: found by %s, which names no repository\n", k, res.Location.Via)
		default:
			byRepo[res.Location.Repo] = append(byRepo[res.Location.Repo], k)
		}
	}

	app, err := ghapp.New(ghapp.Options{AppID: cfg.AppID, PrivateKey: cfg.PrivateKeyPEM(), APIURL: cfg.APIURL(), UserAgent: "kmend"})
	if err != nil {
		return withCode(exitError, err)
	}
	ctx := context.Background()
	slug := cfg.AppSlug
	if slug == "" {
		a, _, err := app.Client().Apps.Get(ctx, "")
		if err != nil {
			return withCode(exitError, fmt.Errorf("GET /app: %w", err))
		}
		slug = a.GetSlug()
	}
	var userID int64
	if u, _, err := app.Public().Users.Get(ctx, slug+"[bot]"); err == nil {
		userID = u.GetID()
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	b, err := bot.New(bot.Options{App: app, Controls: in.controls, Check: in.check, Slug: slug, BotUserID: userID, WebURL: cfg.GitHubURL})
	if err != nil {
		return withCode(exitError, err)
	}
	name := clusterName(f)
	repoURLs := make([]string, 0, len(byRepo))
	for u := range byRepo {
		repoURLs = append(repoURLs, u)
	}
	slices.Sort(repoURLs)
	for _, repoURL := range repoURLs {
		owner, repoName, ok := onGitHub(repoURL, web)
		if !ok {
			code = max(code, exitFindings)
			fmt.Fprintf(stdout, "elsewhere    %s: not on %s (%d objects)\n", repoURL, cfg.GitHubURL, len(byRepo[repoURL]))
			continue
		}
		repo := publish.Repo{Owner: owner, Name: repoName}
		inst, resp, err := app.Client().Apps.FindRepositoryInstallation(ctx, owner, repoName)
		if err != nil {
			code = max(code, exitFindings)
			if resp != nil && resp.StatusCode == http.StatusNotFound {
				fmt.Fprintf(stdout, "not installed %s: install the App on it to get pull requests\n", repo)
			} else {
				fmt.Fprintf(stdout, "error        %s: %v\n", repo, err)
			}
			continue
		}
		sel := bot.Selection{
			Group: render.Group{Key: "cluster/" + name, Title: "live findings of " + name},
			Only:  selectLive(repoURL, f, in.set.Objects, byRepo[repoURL], node, byObject),
		}
		outs, err := b.SyncSelected(ctx, inst.GetID(), repo, log, sel)
		if err != nil {
			code = exitError
			fmt.Fprintf(stdout, "error        %s: %v\n", repo, err)
			continue
		}
		if len(outs) == 0 {
			fmt.Fprintf(stdout, "nothing      %s: the live findings are not in its default branch, or kmend cannot fix them automatically\n", repo)
		}
		for _, o := range outs {
			fmt.Fprintf(stdout, "%-12s %s: pull request #%d (%d findings fixed, %d left for review) %s\n", o.Action, repo, o.PR, o.Fixed, o.Left, o.URL)
		}
	}
	if code != exitOK {
		return withCode(code, nil)
	}
	return nil
}

// selectLive returns, for a clone of repoURL, the filter of the findings
// that the live objects traced to it have: same file, document, control
// and container.
func selectLive(repoURL string, f *fixFlags, inputs []manifest.Object, keys []string, node func(string) *yaml.RNode, byObject map[string][]finding.Finding) func(dir string) (func(finding.Finding) bool, error) {
	return func(dir string) (func(finding.Finding) bool, error) {
		m, err := newMapper(dir, repoURL, &f.live, inputs)
		if err != nil {
			return nil, err
		}
		wants := map[liveTarget]map[liveWant]bool{}
		for _, k := range keys {
			res := m.Locate(node(k))
			if res.Location == nil || res.Location.File == "" {
				continue
			}
			t := liveTarget{file: res.Location.File, doc: res.Location.Document}
			if wants[t] == nil {
				wants[t] = map[liveWant]bool{}
			}
			for _, fd := range byObject[k] {
				wants[t][liveWant{fd.ControlID, fd.Container}] = true
			}
		}
		return func(fd finding.Finding) bool {
			w := wants[liveTarget{file: filepath.ToSlash(fd.Position.File), doc: fd.Position.Document}]
			return w[liveWant{fd.ControlID, fd.Container}] || w[liveWant{fd.ControlID, ""}]
		}, nil
	}
}

// onGitHub splits a repository URL on the configured GitHub into owner and
// name.
func onGitHub(repoURL string, web *url.URL) (string, string, bool) {
	u, err := url.Parse(repoURL)
	if err != nil || !strings.EqualFold(u.Host, web.Host) {
		return "", "", false
	}
	parts := strings.Split(strings.Trim(strings.TrimSuffix(u.Path, ".git"), "/"), "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// clusterName names the cluster the findings come from, for the branch and
// the pull request: the kubeconfig context, else "snapshot" or "report".
func clusterName(f *fixFlags) string {
	switch {
	case f.live.live && f.live.context != "":
		return f.live.context
	case f.live.live:
		return "cluster"
	case f.findings != "":
		return "report"
	}
	return "snapshot"
}
