package ghapp

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"
)

// PublicAPI is github.com's REST API root.
const PublicAPI = "https://api.github.com/"

// Options configure an App.
type Options struct {
	// AppID and PrivateKey (PEM) are the App's credentials.
	AppID      int64
	PrivateKey []byte
	// APIURL is the REST API root: PublicAPI (the default) or a GitHub
	// Enterprise Server's, see EnterpriseAPIURL.
	APIURL string
	// Transport keeps the API manners; a new one when nil. One Transport
	// is shared by the App's clients so its counters see every call.
	Transport *Transport
	// UserAgent names kmend in every request.
	UserAgent string
}

// App is kmend's GitHub App: an app-level client and one client per
// installation, all through one Transport.
type App struct {
	opts    Options
	apiURL  *url.URL
	apps    *ghinstallation.AppsTransport
	client  *github.Client
	mu      sync.Mutex
	install map[int64]*ghinstallation.Transport
}

// EnterpriseAPIURL is the REST API root of a GitHub Enterprise Server at
// base (https://ghe.example.com → https://ghe.example.com/api/v3/).
func EnterpriseAPIURL(base string) string {
	return strings.TrimSuffix(base, "/") + "/api/v3/"
}

// New checks the credentials' form (the key must parse) and builds the
// App; it makes no call to GitHub.
func New(opts Options) (*App, error) {
	if opts.AppID <= 0 {
		return nil, fmt.Errorf("github app: app ID %d: must be positive", opts.AppID)
	}
	if opts.APIURL == "" {
		opts.APIURL = PublicAPI
	}
	if !strings.HasSuffix(opts.APIURL, "/") {
		opts.APIURL += "/"
	}
	u, err := url.Parse(opts.APIURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("github app: API URL %q: not an http(s) URL", opts.APIURL)
	}
	if opts.Transport == nil {
		opts.Transport = &Transport{}
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "kmend"
	}
	apps, err := ghinstallation.NewAppsTransport(opts.Transport, opts.AppID, opts.PrivateKey)
	if err != nil {
		// ghinstallation's error says what is wrong with the key, never
		// the key itself.
		return nil, fmt.Errorf("github app %d: private key: %w", opts.AppID, err)
	}
	apps.BaseURL = strings.TrimSuffix(opts.APIURL, "/")
	a := &App{opts: opts, apiURL: u, apps: apps, install: map[int64]*ghinstallation.Transport{}}
	a.client = a.newClient(apps)
	return a, nil
}

// Transport is the transport every client of the App uses.
func (a *App) Transport() *Transport { return a.opts.Transport }

// ID is the App's ID.
func (a *App) ID() int64 { return a.opts.AppID }

// Client is the app-level client (authenticated as the App with a JWT):
// for /app, /app/installations and token calls.
func (a *App) Client() *github.Client { return a.client }

// Public is an unauthenticated client, for public endpoints (GET
// /users/{username}), through the same transport.
func (a *App) Public() *github.Client { return a.newClient(a.opts.Transport) }

// Installation is a client authenticated as one installation; tokens are
// fetched and renewed by ghinstallation and kept per installation.
func (a *App) Installation(id int64) *github.Client {
	return a.newClient(a.installation(id))
}

// Token is a current installation token, for git over HTTPS.
func (a *App) Token(ctx context.Context, id int64) (string, error) {
	tok, err := a.installation(id).Token(ctx)
	if err != nil {
		return "", fmt.Errorf("installation %d: token: %w", id, err)
	}
	return tok, nil
}

func (a *App) installation(id int64) *ghinstallation.Transport {
	a.mu.Lock()
	defer a.mu.Unlock()
	tr, ok := a.install[id]
	if !ok {
		tr = ghinstallation.NewFromAppsTransport(a.apps, id)
		// Without options ghinstallation posts the body "null", which
		// GitHub's schema rejects.
		tr.InstallationTokenOptions = &github.InstallationTokenOptions{}
		a.install[id] = tr
	}
	return tr
}

func (a *App) newClient(rt http.RoundTripper) *github.Client {
	c := github.NewClient(&http.Client{Transport: rt})
	u := *a.apiURL
	c.BaseURL = &u
	c.UserAgent = a.opts.UserAgent
	return c
}
