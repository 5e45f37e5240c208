// Command demoloop runs kmend's GitHub App loop offline, for make demo: a
// GitHub stand-in (internal/githubfake) and a real git server
// (internal/gittest) on a temporary directory, a repository pushed to
// them, and kmend's webhook receiver, queue and bot as kmend serve runs
// them. It delivers the repository's installation and a push as GitHub
// would, signed, and prints the pull requests kmend opens: title, body
// and diff.
//
// Usage: go run ./hack/demoloop -repo fixtures/demo-repo -out .cache/demo
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/kmend/kmend/internal/bot"
	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/ghapp"
	"github.com/kmend/kmend/internal/githubfake"
	"github.com/kmend/kmend/internal/gittest"
	"github.com/kmend/kmend/internal/webhook"
)

// runner plays the part of a test for the stand-ins: their failures end
// the demo with a message.
type runner struct {
	dir      string
	cleanups []func()
}

func (r *runner) Helper()                         {}
func (r *runner) Cleanup(f func())                { r.cleanups = append(r.cleanups, f) }
func (r *runner) Logf(format string, args ...any) {}
func (r *runner) Errorf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "demoloop: "+format+"\n", args...)
}
func (r *runner) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.close()
	os.Exit(1)
}
func (r *runner) TempDir() string {
	d, err := os.MkdirTemp(r.dir, "t")
	if err != nil {
		r.Fatalf("%v", err)
	}
	return d
}
func (r *runner) close() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	r.cleanups = nil
	os.RemoveAll(r.dir)
}

const owner, name = "example-shop", "platform"

func main() {
	repoDir := flag.String("repo", "fixtures/demo-repo", "the repository to push to the stand-in")
	out := flag.String("out", "", "write each pull request's full body and diff to this `DIR`")
	bodyLines := flag.Int("lines", 60, "print at most this many lines of each body and diff")
	flag.Parse()

	dir, err := os.MkdirTemp("", "kmend-demoloop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "demoloop:", err)
		os.Exit(1)
	}
	r := &runner{dir: dir}
	defer r.close()

	files := map[string][]byte{}
	err = filepath.WalkDir(*repoDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(*repoDir, p)
		files[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		r.Fatalf("read %s: %v", *repoDir, err)
	}

	fake := githubfake.New(r, githubfake.Options{})
	git := gittest.New(r, gittest.Options{Root: fake.GitRoot(), Authorize: fake.TokenAllows})
	fake.SetCloneBaseURL(git.URL())
	fake.AddRepo(owner, name, files)
	inst := fake.Install(owner, name)
	fmt.Printf("GitHub stand-in at %s, git server at %s: %s/%s (%d files) with kmend installed\n", fake.URL(), git.URL(), owner, name, len(files))

	app, err := ghapp.New(ghapp.Options{AppID: fake.App().ID, PrivateKey: fake.App().PrivateKeyPEM, APIURL: fake.URL()})
	if err != nil {
		r.Fatalf("%v", err)
	}
	cat, err := catalog.LoadBuiltin()
	if err != nil {
		r.Fatalf("%v", err)
	}
	slug := fake.App().Slug
	b, err := bot.New(bot.Options{App: app, Controls: cat.All(), Slug: slug, BotUserID: fake.UserID(slug + "[bot]"), WorkDir: r.TempDir()})
	if err != nil {
		r.Fatalf("%v", err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	done := make(chan error, 4)
	q := webhook.NewQueue(webhook.QueueOptions{Size: 8, Workers: 1, Logger: log})
	for event, h := range b.Handlers() {
		q.Register(event, webhook.HandlerFunc(func(ctx context.Context, ev webhook.Event) error {
			err := h.Handle(ctx, ev)
			done <- err
			return err
		}))
	}
	recv, err := webhook.New(webhook.Options{Secret: []byte(fake.App().WebhookSecret), Queue: q, Logger: log})
	if err != nil {
		r.Fatalf("%v", err)
	}
	srv := httptest.NewServer(recv)
	r.Cleanup(srv.Close)

	deliver := func(event, id string, body []byte) {
		start := time.Now()
		resp, err := fake.Deliver(context.Background(), srv.URL, event, id, body)
		if err != nil {
			r.Fatalf("deliver %s: %v", event, err)
		}
		resp.Body.Close()
		fmt.Printf("\n→ %s delivered (%s), kmend answered %d\n", event, id, resp.StatusCode)
		select {
		case err := <-done:
			if err != nil {
				r.Fatalf("kmend failed on %s: %v", event, err)
			}
		case <-time.After(3 * time.Minute):
			r.Fatalf("%s not handled in 3 minutes", event)
		}
		fmt.Printf("  handled in %.2f s\n", time.Since(start).Seconds())
	}
	seen := 0
	show := func() {
		prs := fake.PRs(owner, name)
		for _, pr := range prs[seen:] {
			printPR(r, git, pr, *out, *bodyLines)
		}
		seen = len(prs)
	}

	fake.ResetCalls()
	deliver("installation", "demo-install", payload(r, "installation.created", inst, func(m map[string]any) {
		m["repositories"] = []any{map[string]any{"id": 1, "node_id": "R_1", "name": name, "full_name": owner + "/" + name, "private": false}}
	}))
	show()
	fake.ResetCalls()
	deliver("push", "demo-push", payload(r, "push", inst, func(m map[string]any) {
		m["ref"] = "refs/heads/main"
		for _, c := range append(m["commits"].([]any), m["head_commit"]) {
			c.(map[string]any)["modified"] = []string{"apps/storefront/storefront.yaml"}
		}
	}))
	fmt.Printf("  GitHub API calls: %d\n", fake.TotalCalls())
	show()
	fake.ResetCalls()
	deliver("push", "demo-push-again", payload(r, "push", inst, func(m map[string]any) {
		m["ref"] = "refs/heads/main"
		for _, c := range append(m["commits"].([]any), m["head_commit"]) {
			c.(map[string]any)["modified"] = []string{"apps/storefront/storefront.yaml"}
		}
	}))
	fmt.Printf("  the same push again: %d pull requests in all, none new (GitHub API calls: %d)\n", len(fake.PRs(owner, name)), fake.TotalCalls())
	if errs := fake.Errors(); len(errs) > 0 {
		r.Fatalf("the GitHub stand-in saw requests GitHub would refuse: %v", errs)
	}
	fmt.Println("\nEvery request kmend made was checked against GitHub's OpenAPI description: none was refused.")
}

// payload is a real webhook payload (fixtures/github/webhooks) pointed at
// the demo's installation and repository.
func payload(r *runner, file string, inst int64, edit func(map[string]any)) []byte {
	var m map[string]any
	if err := json.Unmarshal(githubfake.Payload(r, file), &m); err != nil {
		r.Fatalf("%v", err)
	}
	if i, ok := m["installation"].(map[string]any); ok {
		i["id"] = inst
	}
	if repo, ok := m["repository"].(map[string]any); ok {
		repo["name"], repo["full_name"], repo["default_branch"], repo["master_branch"] = name, owner+"/"+name, "main", "main"
		o := repo["owner"].(map[string]any)
		o["login"], o["name"] = owner, owner
	}
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		r.Fatalf("%v", err)
	}
	return b
}

func printPR(r *runner, git *gittest.Server, pr githubfake.PR, out string, lines int) {
	diff, err := exec.Command("git", "--git-dir", git.RepoPath(owner, name), "diff", "--stat", "-p", pr.Base+"..."+pr.Head).Output()
	if err != nil {
		r.Fatalf("git diff %s...%s: %v", pr.Base, pr.Head, err)
	}
	fmt.Printf("\n  Pull request #%d  %s → %s\n  %s\n", pr.Number, pr.Head, pr.Base, pr.Title)
	fmt.Printf("  labels: %s\n\n", strings.Join(pr.Labels, ", "))
	fmt.Println(head(pr.Body, lines))
	fmt.Println("\n  The diff on the branch (git diff " + pr.Base + "..." + pr.Head + "):")
	fmt.Println(head(string(diff), lines))
	if out != "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			r.Fatalf("%v", err)
		}
		base := filepath.Join(out, fmt.Sprintf("pr-%d", pr.Number))
		if err := os.WriteFile(base+".md", []byte(pr.Body), 0o644); err != nil {
			r.Fatalf("%v", err)
		}
		if err := os.WriteFile(base+".diff", diff, 0o644); err != nil {
			r.Fatalf("%v", err)
		}
		fmt.Printf("  (the whole body and diff: %s.md, %s.diff)\n", base, base)
	}
}

// head is the first n lines of s, and how many were left out.
func head(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) <= n {
		return strings.Join(ls, "\n")
	}
	return strings.Join(ls[:n], "\n") + fmt.Sprintf("\n  … %d more lines", len(ls)-n)
}
