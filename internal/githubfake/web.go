package githubfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// The web half of the GitHub App manifest flow: the pages a browser posts a
// manifest to. GitHub serves them on its web host (github.com, or a GitHub
// Enterprise Server's own address), not on the REST API, so they are not in
// GitHub's OpenAPI description and are not validated against it; the fake
// checks the form itself, as described on serveWeb. They are not counted
// as API calls either.
//
//	POST /settings/apps/new?state=S                      (a personal account)
//	POST /organizations/{org}/settings/apps/new?state=S  (an organization)
//
// The form field "manifest" holds the manifest as JSON. GitHub then shows a
// page where the signed-in person confirms (and may rename) the App; the
// fake plays a person who confirms at once. It answers 302 to the
// manifest's redirect_url with ?code=C&state=S, and C is good for one POST
// /app-manifests/{C}/conversions, which makes the new App (with the
// manifest's name, description, url, permissions and events, owned by the
// organization or by the user "octocat") the fake's App.

// WebUser is the person signed in to the fake's web pages, who owns Apps
// registered under a personal account.
const WebUser = "octocat"

// ManifestPost is one manifest posted to the fake's web pages.
type ManifestPost struct {
	// Org is the organization of /organizations/{org}/settings/apps/new,
	// "" for /settings/apps/new.
	Org string
	// State is the state query parameter, passed back on the redirect.
	State string
	// Manifest is the form field as posted (JSON).
	Manifest string
	// Code is the conversion code the fake issued, "" when it refused the
	// manifest.
	Code string
	// Status is the fake's answer: 302, or 4xx for a refused form.
	Status int
	// Error says why the form was refused.
	Error string
}

// ManifestPosts returns the manifests posted so far, oldest first.
func (f *Fake) ManifestPosts() []ManifestPost {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ManifestPost(nil), f.st.manifestPosts...)
}

// manifestApp is what a manifest code turns into on conversion.
type manifestApp struct {
	name        string
	description string
	url         string
	owner       string
	permissions map[string]string
	events      []string
}

// webManifest is the part of a manifest the fake reads. Other keys
// (callback_urls, setup_url, public, ...) are accepted and ignored.
type webManifest struct {
	Name           *string `json:"name"`
	URL            string  `json:"url"`
	Description    string  `json:"description"`
	RedirectURL    string  `json:"redirect_url"`
	HookAttributes *struct {
		URL    string `json:"url"`
		Active *bool  `json:"active"`
	} `json:"hook_attributes"`
	DefaultPermissions map[string]string `json:"default_permissions"`
	DefaultEvents      []string          `json:"default_events"`
}

// eventPermission is the permission an App needs before it may subscribe
// to an event, for the events kmend uses (GitHub's App settings list each
// event under its permission). Events missing here are not checked.
var eventPermission = map[string]string{
	"push":          "contents",
	"pull_request":  "pull_requests",
	"issue_comment": "issues",
	"issues":        "issues",
	"check_run":     "checks",
	"check_suite":   "checks",
}

// Events GitHub sends every App without a subscription; a manifest cannot
// name them.
var implicitEvents = map[string]bool{"installation": true, "installation_repositories": true}

var (
	webOrgPath = regexp.MustCompile(`^/organizations/([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)/settings/apps/new$`)
	slugStrip  = regexp.MustCompile(`[^a-z0-9]+`)
)

// serveWeb answers the web pages of the manifest flow and reports whether
// the path was one of them. Checks, each answered 422 with a plain-text
// reason: the form has a "manifest" field holding a JSON object; url,
// hook_attributes.url and redirect_url are absolute http(s) URLs; the name,
// when set, is 1-34 characters; permissions are read, write or admin; no
// event is one GitHub sends without a subscription; each event kmend uses
// has the permission it needs.
func (f *Fake) serveWeb(w http.ResponseWriter, r *http.Request, escaped string) bool {
	org := ""
	switch {
	case escaped == "/settings/apps/new":
	case webOrgPath.MatchString(escaped):
		org = webOrgPath.FindStringSubmatch(escaped)[1]
	default:
		return false
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "the manifest flow posts its form here", http.StatusMethodNotAllowed)
		return true
	}
	post := ManifestPost{Org: org, State: r.URL.Query().Get("state")}
	refuse := func(format string, args ...any) {
		post.Status, post.Error = http.StatusUnprocessableEntity, fmt.Sprintf(format, args...)
		f.mu.Lock()
		f.st.manifestPosts = append(f.st.manifestPosts, post)
		f.mu.Unlock()
		http.Error(w, "Invalid GitHub App manifest: "+post.Error, post.Status)
	}
	if err := r.ParseForm(); err != nil {
		refuse("the form cannot be read: %v", err)
		return true
	}
	post.Manifest = r.PostForm.Get("manifest")
	app, redirect, err := readWebManifest(post.Manifest)
	if err != nil {
		refuse("%v", err)
		return true
	}
	app.owner = WebUser
	if org != "" {
		app.owner = org
	}

	code := randomHex(10)
	f.mu.Lock()
	f.st.manifestCodes[code] = true
	f.st.manifests[code] = app
	post.Code, post.Status = code, http.StatusFound
	f.st.manifestPosts = append(f.st.manifestPosts, post)
	f.mu.Unlock()

	q := redirect.Query()
	q.Set("code", code)
	if post.State != "" {
		q.Set("state", post.State)
	}
	redirect.RawQuery = q.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
	return true
}

// readWebManifest checks a posted manifest and returns the App it makes and
// where to send the browser back to.
func readWebManifest(raw string) (*manifestApp, *url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil, fmt.Errorf("the form has no manifest field")
	}
	var m webManifest
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, nil, fmt.Errorf("the manifest is not a JSON object: %v", err)
	}
	if err := absoluteURL("url", m.URL); err != nil {
		return nil, nil, err
	}
	if m.HookAttributes == nil {
		return nil, nil, fmt.Errorf("hook_attributes is missing")
	}
	if err := absoluteURL("hook_attributes.url", m.HookAttributes.URL); err != nil {
		return nil, nil, err
	}
	if err := absoluteURL("redirect_url", m.RedirectURL); err != nil {
		return nil, nil, err
	}
	redirect, _ := url.Parse(m.RedirectURL)
	name := "github-app"
	if m.Name != nil {
		name = strings.TrimSpace(*m.Name)
		if n := len([]rune(name)); n == 0 || n > 34 {
			return nil, nil, fmt.Errorf("name %q must be 1-34 characters", name)
		}
	}
	if slugFor(name) == "" {
		return nil, nil, fmt.Errorf("name %q has no letter or digit", name)
	}
	perms := map[string]string{"metadata": "read"}
	for k, v := range m.DefaultPermissions {
		if v != "read" && v != "write" && v != "admin" {
			return nil, nil, fmt.Errorf("default_permissions.%s: %q is not read, write or admin", k, v)
		}
		perms[k] = v
	}
	events := append([]string{}, m.DefaultEvents...)
	sort.Strings(events)
	for _, e := range events {
		if implicitEvents[e] {
			return nil, nil, fmt.Errorf("default_events: %q is sent to every GitHub App and cannot be subscribed to", e)
		}
		if need := eventPermission[e]; need != "" && perms[need] == "" {
			return nil, nil, fmt.Errorf("default_events: %q needs the %s permission", e, need)
		}
	}
	return &manifestApp{
		name:        name,
		description: m.Description,
		url:         m.URL,
		permissions: perms,
		events:      events,
	}, redirect, nil
}

func absoluteURL(field, raw string) error {
	if raw == "" {
		return fmt.Errorf("%s is missing", field)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s %q is not an absolute http(s) URL", field, raw)
	}
	return nil
}

// slugFor makes an App's slug from its name, as GitHub does: lower case,
// every run of other characters a dash, no dash at either end.
func slugFor(name string) string {
	return strings.Trim(slugStrip.ReplaceAllString(strings.ToLower(name), "-"), "-")
}

// applyManifest gives the App a conversion makes what the manifest posted
// with code said. Codes from AddManifestCode carry no manifest: the App
// keeps the old one's name and settings.
func (st *state) applyManifest(code string, app *appState) {
	m := st.manifests[code]
	if m == nil {
		return
	}
	delete(st.manifests, code)
	app.name, app.slug, app.owner = m.name, slugFor(m.name), m.owner
	app.description, app.externalURL = m.description, m.url
	app.permissions, app.events = copyPerms(m.permissions), append([]string{}, m.events...)
}

// appPermissions and appEvents are the App's settings; an App not made
// from a manifest has kmend's.
func (a *appState) appPermissions() map[string]string {
	if a.permissions != nil {
		return a.permissions
	}
	return defaultPermissions()
}

func (a *appState) appEvents() []string {
	if a.events != nil {
		return a.events
	}
	return []string{"check_run", "issue_comment", "pull_request", "push"}
}

func (a *appState) appDescription() string {
	if a.description != "" {
		return a.description
	}
	return "Fixes Kubernetes security findings with pull requests."
}

func (a *appState) appExternalURL(web string) string {
	if a.externalURL != "" {
		return a.externalURL
	}
	return web + "/" + a.slug
}
