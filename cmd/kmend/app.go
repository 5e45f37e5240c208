package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"
	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/kmend/kmend/internal/config"
	"github.com/kmend/kmend/internal/lazyre"
	"github.com/kmend/kmend/internal/version"
)

// appManifestYAML is the App manifest built into kmend: a copy of the
// repository's top-level app.yml (Go cannot embed a file above the
// package's folder; TestEmbeddedManifestIsAppYML keeps the two equal).
//
//go:embed app.yml
var appManifestYAML []byte

// github.com's web and API addresses. Variables so that tests can point
// them at the local GitHub stand-in.
var (
	dotcomWebURL = "https://github.com"
	dotcomAPIURL = "https://api.github.com/"
)

// openBrowser opens a URL in the user's browser, best effort. A variable
// so that tests can see it called.
var openBrowser = func(u string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", u)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.Command("xdg-open", u)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() //nolint:errcheck // reap it; its result does not matter
	return nil
}

// maxAppNameLen is the longest name GitHub accepts for an App.
const maxAppNameLen = 34

// appManifest is GitHub's App manifest: every key the manifest flow reads.
// Decoding is strict, so a misspelt key in a --manifest file is an error
// rather than a setting GitHub silently never sees.
type appManifest struct {
	Name                  string            `json:"name,omitempty"`
	URL                   string            `json:"url"`
	HookAttributes        hookAttributes    `json:"hook_attributes"`
	RedirectURL           string            `json:"redirect_url"`
	CallbackURLs          []string          `json:"callback_urls,omitempty"`
	SetupURL              string            `json:"setup_url,omitempty"`
	Description           string            `json:"description,omitempty"`
	Public                bool              `json:"public"`
	DefaultEvents         []string          `json:"default_events,omitempty"`
	DefaultPermissions    map[string]string `json:"default_permissions,omitempty"`
	RequestOAuthOnInstall bool              `json:"request_oauth_on_install,omitempty"`
	SetupOnUpdate         bool              `json:"setup_on_update,omitempty"`
}

type hookAttributes struct {
	URL    string `json:"url"`
	Active *bool  `json:"active,omitempty"`
}

// registerOptions are the flags of `kmend app register`.
type registerOptions struct {
	webhookURL   string
	githubURL    string
	org          string
	name         string
	listen       string
	configPath   string
	manifestPath string
	noBrowser    bool
	force        bool
	timeout      time.Duration
}

func newApp(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "app",
		Short: "Set up kmend's GitHub App",
		Long: `app sets up the GitHub App that kmend serve runs as. See
docs/github-app.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newAppRegister(g))
	return cmd
}

func newAppRegister(g *globals) *cobra.Command {
	o := &registerOptions{}
	cmd := &cobra.Command{
		Use:   "register --webhook-url URL",
		Short: "Register kmend's GitHub App on GitHub and write its credentials to kmend.yaml",
		Long: `register creates kmend's GitHub App with GitHub's App manifest flow, for
github.com or a GitHub Enterprise Server (--github-url).

It serves a page on this machine (--listen) that sends the App's manifest
(app.yml: name, permissions, events, and --webhook-url as the webhook
address) to GitHub. Open it in a browser where you are signed in to GitHub
(kmend tries to open one for you), confirm the App on GitHub's page, and
GitHub sends the browser back here with a code. kmend trades the code for the
App's ID, private key and webhook secret (POST /app-manifests/{code}/conversions)
and writes them: the configuration of kmend serve (--config, mode 0600) and the
private key in a file next to it (kmend.private-key.pem for kmend.yaml, mode
0600). The secrets are never printed. GitHub's code is good for one hour;
kmend waits --timeout for it.

Then install the App on your repositories and run kmend serve --config FILE.
When this machine is not the one with the browser, forward the port
(ssh -L 8765:127.0.0.1:8765 HOST) and use --listen 127.0.0.1:8765.`,
		Example: `  # github.com, the App owned by your user account
  kmend app register --webhook-url https://kmend.example.com/webhook

  # owned by an organization, with another name
  kmend app register --webhook-url https://kmend.example.com/webhook --org acme --name kmend-acme

  # GitHub Enterprise Server
  kmend app register --webhook-url https://kmend.internal/webhook --github-url https://github.example.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.webhookURL == "" {
				return withCode(exitError, errors.New("--webhook-url is required: the address where GitHub will send webhooks, kmend serve's /webhook (https://kmend.example.com/webhook)\nRun 'kmend app register --help' for usage."))
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			notes := cmd.ErrOrStderr()
			if g.quiet {
				notes = io.Discard
			}
			return register(ctx, o, cmd.OutOrStdout(), notes)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.webhookURL, "webhook-url", "", "where GitHub sends webhooks: kmend serve's public /webhook `URL` (required)")
	f.StringVar(&o.githubURL, "github-url", config.DefaultGitHubURL, "GitHub's web `URL`, or a GitHub Enterprise Server's (its API is then URL/api/v3/)")
	f.StringVar(&o.org, "org", "", "register the App under the organization `ORG` (default: your user account)")
	f.StringVar(&o.name, "name", "", "the App's `NAME` (default: the manifest's name, kmend; unique on GitHub, at most 34 characters)")
	f.StringVar(&o.listen, "listen", "127.0.0.1:0", "`ADDRESS` of the local page the browser opens (port 0: any free port)")
	f.StringVar(&o.configPath, "config", "kmend.yaml", "write the server configuration to `FILE`; the private key goes next to it")
	f.StringVar(&o.manifestPath, "manifest", "", "send the App manifest in `FILE` (YAML or JSON) instead of the built-in app.yml")
	f.BoolVar(&o.noBrowser, "no-browser", false, "only print the address to open; do not start a browser")
	f.BoolVar(&o.force, "force", false, "replace the configuration and key files if they exist")
	f.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up when GitHub has not sent the browser back within `DURATION`")
	return cmd
}

// registerFlow is one run of the manifest flow.
type registerFlow struct {
	opts       *registerOptions
	web        string // GitHub's web root, no trailing slash
	api        string // GitHub's REST API, with the trailing slash go-github needs
	githubURL  string // written to the configuration
	configPath string
	keyPath    string
	state      string
	localURL   string // the local page, with a trailing slash
	formURL    string // where the page posts the manifest
	manifest   []byte // JSON
	notes      io.Writer

	mu     sync.Mutex
	busy   bool // a code is being converted, or was
	result chan registerResult
}

type registerResult struct {
	app *github.AppConfig
	err error
}

// codeRE is what a manifest code may look like: it becomes part of an API
// path, so anything else is refused.
var codeRE = lazyre.New(`^[A-Za-z0-9_-]{1,200}$`)

var orgRE = lazyre.New(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)

func register(ctx context.Context, o *registerOptions, stdout, notes io.Writer) error {
	fl, err := prepareRegister(o, notes)
	if err != nil {
		return withCode(exitError, err)
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return withCode(exitError, fmt.Errorf("--listen %s: %w", o.listen, err))
	}
	fl.localURL = localURL(ln.Addr())
	if err := fl.buildManifest(); err != nil {
		ln.Close()
		return withCode(exitError, err)
	}

	srv := &http.Server{Handler: fl.handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown below
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx) //nolint:errcheck // best effort: the flow is over
	}()

	where := "github.com"
	if u, err := url.Parse(fl.web); err == nil && fl.web != dotcomWebURL {
		where = u.Host
	}
	owner := "your user account"
	if o.org != "" {
		owner = "the organization " + o.org
	}
	fmt.Fprintf(stdout, "Open %s in a browser signed in to %s to register kmend's GitHub App under %s.\n", fl.localURL, where, owner)
	fmt.Fprintf(stdout, "Waiting up to %s for GitHub to send the browser back (Ctrl-C to stop).\n", o.timeout)
	if !o.noBrowser {
		if err := openBrowser(fl.localURL); err != nil {
			fmt.Fprintf(notes, "kmend: could not start a browser (%v): open the address above yourself\n", err)
		}
	}

	timer := time.NewTimer(o.timeout)
	defer timer.Stop()
	var stopped error
	select {
	case res := <-fl.result:
		return fl.finish(stdout, res)
	case <-timer.C:
		stopped = fmt.Errorf("timed out after %s: GitHub did not send the browser back to %scallback. Nothing was written. Run the command again (--timeout to wait longer)", o.timeout, fl.localURL)
	case <-ctx.Done():
		stopped = errors.New("interrupted: nothing was written")
	}
	// A code that arrived just now is converted and saved all the same;
	// any later one is refused.
	fl.mu.Lock()
	busy := fl.busy
	fl.busy = true
	fl.mu.Unlock()
	if busy {
		return fl.finish(stdout, <-fl.result)
	}
	return withCode(exitError, stopped)
}

func (fl *registerFlow) finish(stdout io.Writer, res registerResult) error {
	if res.err != nil {
		return withCode(exitError, res.err)
	}
	fl.report(stdout, res.app)
	return nil
}

// prepareRegister checks the flags and everything that can be checked before
// a browser is involved, so that GitHub never creates an App whose
// credentials kmend then cannot save.
func prepareRegister(o *registerOptions, notes io.Writer) (*registerFlow, error) {
	fl := &registerFlow{opts: o, notes: notes, result: make(chan registerResult, 1)}
	if err := fl.resolveGitHub(o.githubURL); err != nil {
		return nil, err
	}
	if o.org != "" && !orgRE.MatchString(o.org) {
		return nil, fmt.Errorf("--org %q is not a GitHub organization name (letters, digits and dashes)", o.org)
	}
	hook, err := url.Parse(o.webhookURL)
	if err != nil || (hook.Scheme != "https" && hook.Scheme != "http") || hook.Host == "" || hook.User != nil || hook.Fragment != "" {
		return nil, fmt.Errorf("--webhook-url %q: want an absolute http(s) URL such as https://kmend.example.com/webhook", o.webhookURL)
	}
	if hook.Scheme == "http" {
		fmt.Fprintf(notes, "kmend: note: --webhook-url is plain http: GitHub will send webhooks unencrypted\n")
	}
	if isLoopback(hook.Hostname()) {
		fmt.Fprintf(notes, "kmend: note: --webhook-url %s is this machine's loopback address: GitHub cannot reach it (use a public address or a tunnel, and change it later in the App's settings)\n", o.webhookURL)
	}
	if o.timeout <= 0 {
		return nil, fmt.Errorf("--timeout %s: want a positive duration", o.timeout)
	}
	if o.name != "" {
		if n := utf8.RuneCountInString(strings.TrimSpace(o.name)); n == 0 || n > maxAppNameLen {
			return nil, fmt.Errorf("--name %q: GitHub App names have 1 to %d characters", o.name, maxAppNameLen)
		}
	}

	fl.configPath = o.configPath
	if fl.configPath == "" {
		return nil, errors.New("--config: want a file name")
	}
	dir := filepath.Dir(fl.configPath)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("--config %s: the folder %s does not exist", fl.configPath, dir)
	}
	base := strings.TrimSuffix(filepath.Base(fl.configPath), filepath.Ext(fl.configPath))
	fl.keyPath = filepath.Join(dir, base+".private-key.pem")
	if !o.force {
		for _, p := range []string{fl.configPath, fl.keyPath} {
			if _, err := os.Lstat(p); err == nil {
				return nil, fmt.Errorf("%s already exists: it may hold another App's credentials. Move it away, choose another --config, or pass --force to replace it", p)
			}
		}
	}

	state := make([]byte, 32)
	if _, err := rand.Read(state); err != nil {
		return nil, fmt.Errorf("make the state: %w", err)
	}
	fl.state = hex.EncodeToString(state)
	return fl, nil
}

// resolveGitHub sets the web root, the API root and the URL the
// configuration keeps, from --github-url.
func (fl *registerFlow) resolveGitHub(raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("--github-url %q: want GitHub's web address, https://github.com or a GitHub Enterprise Server's (https://github.example.com)", raw)
	}
	if strings.EqualFold(u.Host, "github.com") || strings.EqualFold(u.Host, "www.github.com") || strings.EqualFold(u.Host, "api.github.com") {
		fl.web, fl.api, fl.githubURL = dotcomWebURL, dotcomAPIURL, config.DefaultGitHubURL
		return nil
	}
	web := strings.TrimRight(u.String(), "/")
	web = strings.TrimSuffix(web, "/api/v3") // the API's address was given
	fl.web, fl.api, fl.githubURL = web, web+"/api/v3/", web
	return nil
}

// buildManifest reads the manifest and fills in the name, the webhook
// address and the redirect to the local page.
func (fl *registerFlow) buildManifest() error {
	data, source := appManifestYAML, "the built-in app.yml"
	if p := fl.opts.manifestPath; p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("--manifest: %w", err)
		}
		data, source = b, p
	}
	m, err := parseAppManifest(data)
	if err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	if fl.opts.name != "" {
		m.Name = strings.TrimSpace(fl.opts.name)
	}
	if m.Name == "" {
		return fmt.Errorf("%s has no name: pass --name", source)
	}
	if utf8.RuneCountInString(m.Name) > maxAppNameLen {
		return fmt.Errorf("%s: name %q is longer than GitHub's %d characters: pass --name", source, m.Name, maxAppNameLen)
	}
	m.HookAttributes.URL = fl.opts.webhookURL
	m.RedirectURL = fl.localURL + "callback"
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return fmt.Errorf("encode the manifest: %w", err)
	}
	fl.manifest = bytes.TrimSpace(buf.Bytes())

	form := fl.web + "/settings/apps/new"
	if fl.opts.org != "" {
		form = fl.web + "/organizations/" + url.PathEscape(fl.opts.org) + "/settings/apps/new"
	}
	fl.formURL = form + "?state=" + url.QueryEscape(fl.state)
	return nil
}

// parseAppManifest decodes an App manifest strictly (YAML or JSON) and
// checks what the manifest flow needs.
func parseAppManifest(data []byte) (*appManifest, error) {
	var m appManifest
	if err := yaml.UnmarshalStrict(data, &m); err != nil {
		return nil, err
	}
	if u, err := url.Parse(m.URL); m.URL == "" || err != nil || !u.IsAbs() {
		return nil, fmt.Errorf("url %q: want the App's homepage, an absolute URL", m.URL)
	}
	for k, v := range m.DefaultPermissions {
		if v != "read" && v != "write" && v != "admin" {
			return nil, fmt.Errorf("default_permissions.%s: %q is not read, write or admin", k, v)
		}
	}
	return &m, nil
}

// localURL is the address of the local page as a browser on this machine
// reaches it.
func localURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// submitScript posts the form as soon as the page loads; the button is
// there for browsers without JavaScript. The page's Content-Security-Policy
// allows this script and no other, by its hash.
const submitScript = `document.getElementById("manifest-form").submit();`

var submitScriptCSP = func() string {
	sum := sha256.Sum256([]byte(submitScript))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// registerPage is parsed on first use, not at start-up (every run).
var registerPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;line-height:1.5}code{background:#f3f3f3;padding:0 .2em}</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{range .Lines}}<p>{{.}}</p>
{{end}}{{if .Link}}<p><a href="{{.Link}}">{{.LinkText}}</a></p>
{{end}}{{if .FormURL}}<form id="manifest-form" method="post" action="{{.FormURL}}">
<input type="hidden" name="manifest" value="{{.Manifest}}">
<button type="submit">Continue to {{.Host}}</button>
</form>
<script>{{.Script}}</script>
{{end}}</body>
</html>
`))
})

type pageData struct {
	Title    string
	Lines    []string
	Link     string
	LinkText string
	FormURL  string
	Manifest string
	Host     string
	Script   template.JS
}

func writePage(w http.ResponseWriter, status int, d pageData) {
	var buf bytes.Buffer
	if err := registerPage().Execute(&buf, d); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src "+submitScriptCSP+"; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes()) //nolint:errcheck // the browser went away
}

func (fl *registerFlow) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", fl.page)
	mux.HandleFunc("GET /callback", fl.callback)
	return mux
}

// page is the start: a form that posts the manifest to GitHub.
func (fl *registerFlow) page(w http.ResponseWriter, r *http.Request) {
	host := fl.web
	if u, err := url.Parse(fl.web); err == nil {
		host = u.Host
	}
	writePage(w, http.StatusOK, pageData{
		Title: "Register kmend's GitHub App",
		Lines: []string{
			"Sending kmend's App manifest to " + host + ". There, confirm the App (you may rename it); " + host + " then sends you back here.",
		},
		FormURL:  fl.formURL,
		Manifest: string(fl.manifest),
		Host:     host,
		Script:   template.JS(submitScript),
	})
}

// callback takes GitHub's redirect: it checks the state, converts the code
// and saves the App's credentials. A wrong state is refused and the flow
// goes on waiting for the right one.
func (fl *registerFlow) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(fl.state)) != 1 {
		fmt.Fprintf(fl.notes, "kmend: refused a request to /callback whose state is not this run's (still waiting)\n")
		writePage(w, http.StatusBadRequest, pageData{
			Title: "This link is not from this registration",
			Lines: []string{"Its state does not match the one kmend app register sent to GitHub, so it was ignored. Start again from the page below."},
			Link:  fl.localURL, LinkText: fl.localURL,
		})
		return
	}
	code := q.Get("code")
	if !codeRE.MatchString(code) {
		fmt.Fprintf(fl.notes, "kmend: refused a request to /callback without a valid code (still waiting)\n")
		writePage(w, http.StatusBadRequest, pageData{
			Title: "GitHub sent no code",
			Lines: []string{"The App may not have been created. Start again from the page below."},
			Link:  fl.localURL, LinkText: fl.localURL,
		})
		return
	}
	fl.mu.Lock()
	busy := fl.busy
	fl.busy = true
	fl.mu.Unlock()
	if busy {
		writePage(w, http.StatusConflict, pageData{
			Title: "Nothing more to do here",
			Lines: []string{"kmend app register already received a code from GitHub, or stopped waiting for one. See its output in your terminal."},
		})
		return
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	app, err := fl.convert(ctx, code)
	if err == nil {
		err = fl.save(app)
	}
	if err != nil {
		writePage(w, http.StatusBadGateway, pageData{
			Title: "The App's credentials could not be saved",
			Lines: []string{err.Error(), "See your terminal."},
		})
		fl.result <- registerResult{err: err}
		return
	}
	writePage(w, http.StatusOK, pageData{
		Title: "kmend's GitHub App is registered",
		Lines: []string{
			fmt.Sprintf("%s (App ID %d). Its credentials are in %s and %s.", app.GetName(), app.GetID(), fl.configPath, fl.keyPath),
			"Next, install the App on the repositories kmend should fix, then run kmend serve --config " + fl.configPath + ". You can close this tab.",
		},
		Link: installURL(app), LinkText: "Install " + app.GetName(),
	})
	fl.result <- registerResult{app: app}
}

// convert trades the code for the App's configuration.
func (fl *registerFlow) convert(ctx context.Context, code string) (*github.AppConfig, error) {
	gh := github.NewClient(&http.Client{Timeout: time.Minute})
	base, err := url.Parse(fl.api)
	if err != nil {
		return nil, fmt.Errorf("GitHub's API address %q: %w", fl.api, err)
	}
	gh.BaseURL = base
	gh.UserAgent = "kmend/" + version.Version
	app, _, err := gh.Apps.CompleteAppManifest(ctx, code)
	if err != nil {
		var ge *github.ErrorResponse
		if errors.As(err, &ge) && ge.Response != nil {
			return nil, fmt.Errorf("GitHub refused the manifest code (HTTP %d: %s); codes are good for one hour and for one use. Run the command again", ge.Response.StatusCode, ge.Message)
		}
		// The error quotes the URL, which holds the code: leave it out.
		return nil, fmt.Errorf("convert the manifest code at %s: %s", fl.api, strings.ReplaceAll(err.Error(), code, "CODE"))
	}
	missing := []string{}
	if app.GetID() <= 0 {
		missing = append(missing, "id")
	}
	if app.GetPEM() == "" {
		missing = append(missing, "pem")
	}
	if app.GetWebhookSecret() == "" {
		missing = append(missing, "webhook_secret")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("GitHub created the App %s but its answer has no %s: delete the App in its settings and run the command again", app.GetHTMLURL(), strings.Join(missing, ", "))
	}
	return app, nil
}

// save writes the private key, then the configuration, and loads the
// configuration back as kmend serve will.
func (fl *registerFlow) save(app *github.AppConfig) error {
	lost := func(err error) error {
		return fmt.Errorf("GitHub created the App %s, but kmend could not save its credentials (%w): delete the App in its settings (%s/advanced) and run the command again", app.GetHTMLURL(), err, settingsURL(fl.web, fl.opts.org, app.GetSlug()))
	}
	if err := config.WriteSecretFile(fl.keyPath, []byte(app.GetPEM())); err != nil {
		return lost(err)
	}
	srv := &config.Server{
		AppID:          app.GetID(),
		AppSlug:        app.GetSlug(),
		PrivateKeyPath: filepath.Base(fl.keyPath), // relative to the configuration's folder
		WebhookSecret:  config.Secret(app.GetWebhookSecret()),
		GitHubURL:      fl.githubURL,
	}
	if err := srv.Write(fl.configPath); err != nil {
		return lost(err)
	}
	if _, err := config.LoadServer(fl.configPath, func(string) string { return "" }); err != nil {
		return lost(fmt.Errorf("the written configuration does not load: %w", err))
	}
	return nil
}

// report prints what was registered and what to do next; never a secret.
func (fl *registerFlow) report(w io.Writer, app *github.AppConfig) {
	fmt.Fprintf(w, "Registered the GitHub App %q (ID %d): %s\n", app.GetName(), app.GetID(), app.GetHTMLURL())
	fmt.Fprintf(w, "Wrote %s and its private key %s (mode 0600: they hold the App's credentials, keep them private).\n", fl.configPath, fl.keyPath)
	fmt.Fprintf(w, "Next:\n")
	fmt.Fprintf(w, "  1. Install the App on the repositories kmend should fix: %s\n", installURL(app))
	fmt.Fprintf(w, "  2. Run the server where %s reaches it:\n", fl.opts.webhookURL)
	fmt.Fprintf(w, "       kmend serve --config %s\n", fl.configPath)
}

func installURL(app *github.AppConfig) string {
	return strings.TrimRight(app.GetHTMLURL(), "/") + "/installations/new"
}

// settingsURL is where the owner edits or deletes the App.
func settingsURL(web, org, slug string) string {
	if org != "" {
		return web + "/organizations/" + url.PathEscape(org) + "/settings/apps/" + slug
	}
	return web + "/settings/apps/" + slug
}
