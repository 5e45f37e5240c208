package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kmend/kmend/internal/bot"
	"github.com/kmend/kmend/internal/config"
	"github.com/kmend/kmend/internal/ghapp"
	"github.com/kmend/kmend/internal/gitrepo"
	"github.com/kmend/kmend/internal/server"
	"github.com/kmend/kmend/internal/webhook"
)

type serveFlags struct {
	config   string
	listen   string
	logJSON  bool
	logLevel string
	workDir  string
	schedule time.Duration
}

// serveContext ends on SIGINT or SIGTERM; tests replace it.
var serveContext = func() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func newServe(g *globals) *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run kmend as a GitHub App: webhooks in, pull requests out",
		Long: `serve runs kmend's GitHub App. It receives GitHub's webhooks on /webhook
(signature checked, answered at once, handled by a bounded pool of workers),
and for each repository the App is installed on:

  installation, repositories added  an onboarding pull request that adds a
                                     starter .github/kmend.yaml
  push to the default branch         scan, then open, update or close the fix
                                     pull requests (one per change set, never
                                     duplicated)
  kmend's pull request merged        scan again: the loop is closed
  schedule: in .github/kmend.yaml    scan when it comes due, without a push

It also serves /healthz, /readyz (GitHub credentials checked) and /metrics
(Prometheus). SIGINT or SIGTERM stop it gracefully: events already accepted
are finished first.

The configuration (kmend app register writes it; see docs/github-app.md and
docs/config.md) comes from --config and KMEND_* environment variables.`,
		Example: `  kmend app register --webhook-url https://kmend.example.com/webhook
  kmend serve --config kmend.yaml
  KMEND_WEBHOOK_SECRET_FILE=/run/secrets/webhook kmend serve --config /etc/kmend/kmend.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(g, f, cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "the server configuration `FILE` (default: KMEND_* environment variables only)")
	fl.StringVar(&f.listen, "listen", "", "listen on `ADDR` (overrides the configuration; default :8080)")
	fl.BoolVar(&f.logJSON, "log-json", false, "log JSON lines instead of text")
	fl.StringVar(&f.logLevel, "log-level", "info", "log `LEVEL`: debug, info, warn or error")
	fl.DurationVar(&f.schedule, "schedule-interval", 5*time.Minute, "how often to look for repositories whose schedule: (in .github/kmend.yaml) is due; 0 turns scheduled scans off")
	fl.StringVar(&f.workDir, "work-dir", "", "clone repositories under `DIR` (default: the system's temporary directory)")
	return cmd
}

func runServe(g *globals, f *serveFlags, stderr io.Writer) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return withCode(exitError, fmt.Errorf("--log-level %q: want debug, info, warn or error", f.logLevel))
	}
	hopts := &slog.HandlerOptions{Level: level}
	var log *slog.Logger
	if f.logJSON {
		log = slog.New(slog.NewJSONHandler(stderr, hopts))
	} else {
		log = slog.New(slog.NewTextHandler(stderr, hopts))
	}
	cfg, err := config.LoadServer(f.config, os.Getenv)
	if err != nil {
		return withCode(exitError, err)
	}
	if f.listen != "" {
		cfg.ListenAddr = f.listen
	}
	cat, err := g.catalog()
	if err != nil {
		return err
	}

	metrics := server.NewMetrics()
	app, err := ghapp.New(ghapp.Options{
		AppID: cfg.AppID, PrivateKey: cfg.PrivateKeyPEM(), APIURL: cfg.APIURL(),
		Transport: &ghapp.Transport{Observe: func(_ string, status int) { metrics.GitHubCall(status) }},
		UserAgent: "kmend",
	})
	if err != nil {
		return withCode(exitError, err)
	}
	ctx, stop := serveContext()
	defer stop()
	// Who the App is: its slug names the bot user that authors commits.
	// Failing here is not fatal (GitHub may be down): /readyz says so.
	ident := &identity{app: app, slug: cfg.AppSlug}
	if err := ident.load(ctx); err != nil {
		log.Warn("GitHub App not reachable yet; /readyz reports it", "error", err)
	}
	b, err := bot.New(bot.Options{
		App: app, Controls: cat.All(), Author: ident.author,
		WorkDir: f.workDir, WebURL: cfg.GitHubURL,
	})
	if err != nil {
		return withCode(exitError, err)
	}
	queue := webhook.NewQueue(webhook.QueueOptions{Size: cfg.QueueSize, Workers: cfg.Workers, Logger: log, Metrics: metrics})
	b.Register(queue)
	if f.schedule > 0 {
		sched := &bot.Scheduler{Bot: b, Logger: log}
		go sched.Run(ctx, f.schedule)
	}
	recv, err := webhook.New(webhook.Options{Secret: cfg.Secret(), Queue: queue, Logger: log, Metrics: metrics})
	if err != nil {
		return withCode(exitError, err)
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return withCode(exitError, fmt.Errorf("listen %s: %w", cfg.ListenAddr, err))
	}
	log.Info("kmend serve listening", "addr", ln.Addr().String(), "app", cfg.AppID, "github", cfg.GitHubURL, "controls", len(cat.All()))
	err = server.Run(ctx, server.Options{
		Listener: ln, Webhook: recv, Queue: queue, Metrics: metrics, Logger: log,
		Ready: ident.ready,
	})
	if err != nil {
		return withCode(exitError, err)
	}
	log.Info("kmend serve stopped")
	return nil
}

// identity is what GitHub says the App is; /readyz is ready once it has
// been read.
type identity struct {
	app    *ghapp.App
	mu     sync.Mutex
	slug   string
	userID int64
	loaded bool
}

func (i *identity) load(ctx context.Context) error {
	a, _, err := i.app.Client().Apps.Get(ctx, "")
	if err != nil {
		return fmt.Errorf("GET /app: %w", err)
	}
	i.mu.Lock()
	slug := i.slug
	if slug == "" {
		slug = a.GetSlug()
	}
	i.mu.Unlock()
	// The bot user's ID goes into the commits' e-mail address, which is
	// how GitHub links them to the App. The endpoint is public.
	u, _, err := i.app.Public().Users.Get(ctx, slug+"[bot]")
	if err != nil {
		return fmt.Errorf("GET /users/%s[bot]: %w", slug, err)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.slug, i.userID, i.loaded = slug, u.GetID(), true
	return nil
}

func (i *identity) ready(ctx context.Context) error {
	i.mu.Lock()
	loaded := i.loaded
	i.mu.Unlock()
	if loaded {
		return nil
	}
	return i.load(ctx)
}

// author is the commits' author: the App's bot user.
func (i *identity) author() gitrepo.Author {
	i.mu.Lock()
	defer i.mu.Unlock()
	slug := i.slug
	if slug == "" {
		slug = "kmend"
	}
	return gitrepo.BotIdentity(slug, i.userID)
}
