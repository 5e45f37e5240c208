package githubfake

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// App is the GitHub App the fake plays the platform for.
type App struct {
	ID            int64
	Slug          string
	ClientID      string
	ClientSecret  string
	WebhookSecret string
	// PrivateKeyPEM signs the App's JWTs (PKCS #1, as GitHub hands it out).
	PrivateKeyPEM []byte
}

// App returns the App's credentials.
func (f *Fake) App() App {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.st.app
	return App{
		ID:            a.id,
		Slug:          a.slug,
		ClientID:      a.clientID,
		ClientSecret:  a.clientSecret,
		WebhookSecret: a.webhookSecret,
		PrivateKeyPEM: append([]byte(nil), a.pem...),
	}
}

// Install installs the App on an account. With no repos it gets every
// repository of the account ("all"), otherwise only those named ("selected",
// names without the owner). Installing again updates the selection. It
// returns the installation ID.
func (f *Fake) Install(account string, repos ...string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.install(account, repos...)
}

func (f *Fake) install(account string, repos ...string) int64 {
	inst := f.st.installationFor(account)
	if inst == nil {
		now := f.now()
		inst = &installation{
			id:          f.st.id(),
			account:     account,
			accountType: "Organization",
			permissions: defaultPermissions(),
			events:      []string{"check_run", "issue_comment", "pull_request", "push"},
			created:     now,
			updated:     now,
		}
		f.st.installations[inst.id] = inst
	}
	if len(repos) == 0 {
		inst.selection, inst.repos = "all", nil
	} else {
		inst.selection, inst.repos = "selected", map[string]bool{}
		for _, r := range repos {
			inst.repos[strings.ToLower(account+"/"+r)] = true
		}
	}
	return inst.id
}

// Uninstall removes the App from an account; its tokens stop working.
func (f *Fake) Uninstall(account string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	inst := f.st.installationFor(account)
	if inst == nil {
		return
	}
	delete(f.st.installations, inst.id)
	for k, t := range f.st.tokens {
		if t.inst == inst {
			delete(f.st.tokens, k)
		}
	}
}

// SetPermissions replaces an installation's permissions (for example
// {"contents": "read"} to see kmend handle a 403). Tokens issued later get
// them; tokens issued before keep theirs, as on GitHub.
func (f *Fake) SetPermissions(installationID int64, perms map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if inst := f.st.installations[installationID]; inst != nil {
		inst.permissions = copyPerms(perms)
	} else {
		f.t.Errorf("githubfake: SetPermissions: no installation %d", installationID)
	}
}

// InstallationToken issues an installation token without the JWT dance, for
// tests that do not exercise App authentication.
func (f *Fake) InstallationToken(installationID int64) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	inst := f.st.installations[installationID]
	if inst == nil {
		f.t.Fatalf("githubfake: InstallationToken: no installation %d", installationID)
	}
	return f.issueToken(inst, nil, nil).value
}

// UserToken issues a token acting as a user (a person, not the App) that
// reaches every repository, for tests that play the humans around kmend.
func (f *Fake) UserToken(login string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &token{value: newToken("ghp_"), user: login, expires: f.now().Add(100 * 365 * 24 * time.Hour)}
	f.st.tokens[t.value] = t
	return t.value
}

// ExpireTokens makes every token issued so far expired.
func (f *Fake) ExpireTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	past := f.now().Add(-time.Second)
	for _, t := range f.st.tokens {
		t.expires = past
	}
}

// AddManifestCode registers a code that POST /app-manifests/{code}/conversions
// accepts once.
func (f *Fake) AddManifestCode(code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.manifestCodes[code] = true
}

func (f *Fake) issueToken(inst *installation, repos map[string]bool, perms map[string]string) *token {
	if perms == nil {
		perms = copyPerms(inst.permissions)
	}
	t := &token{
		value:   newToken("ghs_"),
		inst:    inst,
		expires: f.now().Add(f.opts.TokenTTL),
		repos:   repos,
		perms:   perms,
	}
	f.st.tokens[t.value] = t
	return t
}

func (f *Fake) getApp(c *call) {
	c.json(http.StatusOK, c.integration())
}

func (f *Fake) listInstallations(c *call) {
	var all []obj
	for _, id := range f.st.installationIDs() {
		all = append(all, c.installation(f.st.installations[id]))
	}
	c.json(http.StatusOK, page(c, all))
}

func (f *Fake) repoInstallation(c *call) {
	for _, id := range f.st.installationIDs() {
		if inst := f.st.installations[id]; inst.covers(c.repo) {
			c.json(http.StatusOK, c.installation(inst))
			return
		}
	}
	c.fail(http.StatusNotFound, "Not Found")
}

func (f *Fake) createToken(c *call) {
	inst := f.st.installations[c.intParam("installation_id")]
	if inst == nil {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	var req struct {
		Repositories  []string          `json:"repositories"`
		RepositoryIDs []int64           `json:"repository_ids"`
		Permissions   map[string]string `json:"permissions"`
	}
	if !c.decode(&req) {
		return
	}
	var repos map[string]bool
	var repoObjs []obj
	if len(req.Repositories) > 0 || len(req.RepositoryIDs) > 0 {
		repos = map[string]bool{}
		reachable := f.st.installedRepos(inst)
		for _, name := range req.Repositories {
			r := f.st.repo(inst.account, name)
			if r == nil || !inst.covers(r) {
				c.unprocessable("Installation", "repositories", "invalid", "There is at least one repository that does not exist or is not accessible to the parent installation.")
				return
			}
			repos[r.key()] = true
		}
		for _, id := range req.RepositoryIDs {
			found := false
			for _, r := range reachable {
				if r.id == id {
					repos[r.key()], found = true, true
				}
			}
			if !found {
				c.unprocessable("Installation", "repository_ids", "invalid", "There is at least one repository that does not exist or is not accessible to the parent installation.")
				return
			}
		}
		for _, r := range reachable {
			if repos[r.key()] {
				repoObjs = append(repoObjs, c.repository(r, false))
			}
		}
	}
	perms := copyPerms(inst.permissions)
	if req.Permissions != nil {
		perms = map[string]string{}
		for k, v := range req.Permissions {
			have := inst.permissions[k]
			if have == "" || (v == "write" && have != "write") {
				c.unprocessable("Installation", "permissions", "invalid", fmt.Sprintf("The permissions requested are not granted to this installation: %s", k))
				return
			}
			perms[k] = v
		}
	}
	t := f.issueToken(inst, repos, perms)
	out := obj{
		"token":                t.value,
		"expires_at":           ts(t.expires),
		"permissions":          t.perms,
		"repository_selection": inst.selection,
	}
	if repos != nil {
		out["repository_selection"] = "selected"
		out["repositories"] = repoObjs
	}
	c.json(http.StatusCreated, out)
}

func (f *Fake) convertManifest(c *call) {
	code := c.params["code"]
	if !f.st.manifestCodes[code] {
		c.fail(http.StatusNotFound, "Not Found")
		return
	}
	delete(f.st.manifestCodes, code)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		c.internal(err)
		return
	}
	old := f.st.app
	app := &appState{
		id:            f.st.id() + 10000,
		slug:          old.slug,
		name:          old.name,
		owner:         old.owner,
		clientID:      "Iv1." + randomHex(8),
		clientSecret:  randomHex(20),
		webhookSecret: randomHex(16),
		key:           key,
		pem:           keyPEM(key),
		created:       f.now(),
	}
	f.st.applyManifest(code, app)
	f.st.app = app
	out := c.integration()
	out["client_id"] = app.clientID
	out["client_secret"] = app.clientSecret
	out["webhook_secret"] = app.webhookSecret
	out["pem"] = string(app.pem)
	c.json(http.StatusCreated, out)
}

func (f *Fake) installationRepos(c *call) {
	if c.who == nil || c.who.tok == nil || c.who.tok.inst == nil {
		c.fail(http.StatusForbidden, "This endpoint requires you to authenticate as a GitHub App installation.")
		return
	}
	tok := c.who.tok
	var repos []obj
	for _, r := range f.st.installedRepos(tok.inst) {
		if tok.repos == nil || tok.repos[r.key()] {
			repos = append(repos, c.repository(r, false))
		}
	}
	total := len(repos)
	c.json(http.StatusOK, obj{
		"total_count":          total,
		"repositories":         page(c, repos),
		"repository_selection": tok.inst.selection,
	})
}

func (f *Fake) rateLimit(c *call) {
	f.rollRate()
	core := obj{
		"limit":     f.rate.limit,
		"remaining": f.rate.remaining,
		"reset":     f.rate.reset.Unix(),
		"used":      f.rate.limit - f.rate.remaining,
		"resource":  "core",
	}
	search := obj{"limit": 30, "remaining": 30, "reset": f.now().Add(time.Minute).Unix(), "used": 0, "resource": "search"}
	f.rateHeaders(c.header)
	c.json(http.StatusOK, obj{
		"rate":      core,
		"resources": obj{"core": core, "search": search},
	})
}
