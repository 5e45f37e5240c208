package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/kmend/kmend/internal/config"
	"github.com/kmend/kmend/internal/githubfake"
)

// lockedBuffer is an io.Writer that a test reads while the command writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// registerRun is `kmend app register` running in the background.
type registerRun struct {
	stdout, stderr lockedBuffer
	done           chan int
}

func startRegister(t *testing.T, args ...string) *registerRun {
	t.Helper()
	r := &registerRun{done: make(chan int, 1)}
	go func() {
		// A bounded wait, so that a failing test does not leave the command waiting (a later --timeout wins).
		args := append([]string{"app", "register", "--timeout", "60s"}, args...)
		r.done <- run(args, strings.NewReader(""), &r.stdout, &r.stderr)
	}()
	return r
}

var openLine = regexp.MustCompile(`Open (http://127\.0\.0\.1:[0-9]+/) in a browser`)

// localURL waits for the address the command prints.
func (r *registerRun) localURL(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := openLine.FindStringSubmatch(r.stdout.String()); m != nil {
			return m[1]
		}
		select {
		case code := <-r.done:
			t.Fatalf("exited %d before printing the address\nstdout:\n%s\nstderr:\n%s", code, r.stdout.String(), r.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("no address printed\nstdout:\n%s\nstderr:\n%s", r.stdout.String(), r.stderr.String())
	return ""
}

// wait waits for the exit code.
func (r *registerRun) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case code := <-r.done:
		return code
	case <-time.After(within):
		t.Fatalf("still running after %s\nstdout:\n%s\nstderr:\n%s", within, r.stdout.String(), r.stderr.String())
		return -1
	}
}

// running reports whether the command has not exited yet.
func (r *registerRun) running() bool {
	select {
	case code := <-r.done:
		r.done <- code
		return false
	default:
		return true
	}
}

var (
	formTag  = regexp.MustCompile(`(?s)<form\b([^>]*)>(.*?)</form>`)
	attrRE   = regexp.MustCompile(`(\w[\w-]*)="([^"]*)"`)
	inputTag = regexp.MustCompile(`<input\b([^>]*)>`)
)

func attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(tag, -1) {
		m[a[1]] = html.UnescapeString(a[2])
	}
	return m
}

// browse does what a browser does with the local page: load it, submit its
// form (method, action, fields), follow GitHub's redirect back to
// /callback. It returns the last response's status and body.
func browse(t *testing.T, local string) (int, string) {
	t.Helper()
	resp, err := http.Get(local)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET %s: %d %s\n%s", local, resp.StatusCode, resp.Header.Get("Content-Type"), page)
	}
	m := formTag.FindStringSubmatch(string(page))
	if m == nil {
		t.Fatalf("no form on the page:\n%s", page)
	}
	form := attrs(m[1])
	if !strings.EqualFold(form["method"], "post") || form["action"] == "" {
		t.Fatalf("form %v", form)
	}
	fields := url.Values{}
	for _, in := range inputTag.FindAllStringSubmatch(m[2], -1) {
		a := attrs(in[1])
		fields.Add(a["name"], a["value"])
	}
	resp, err = http.PostForm(form["action"], fields) // follows the 302 to /callback with a GET
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// recordingProxy stands in front of the fake at another address, as a
// GitHub host would, and records the paths it is asked for.
func recordingProxy(t *testing.T, f *githubfake.Fake) (string, func() []string) {
	t.Helper()
	target, _ := url.Parse(f.URL())
	var mu sync.Mutex
	var paths []string
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		mu.Lock()
		paths = append(paths, pr.In.Method+" "+pr.In.URL.Path)
		mu.Unlock()
		pr.SetURL(target) // and the fake's Host, which its routes match
	}}
	srv := newLocalServer(t, proxy)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), paths...)
	}
}

func newLocalServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := &http.Server{Handler: h}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln) //nolint:errcheck
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// useDotcom points github.com's addresses at a local server for one test.
func useDotcom(t *testing.T, web, api string) {
	t.Helper()
	oldWeb, oldAPI := dotcomWebURL, dotcomAPIURL
	dotcomWebURL, dotcomAPIURL = web, api
	t.Cleanup(func() { dotcomWebURL, dotcomAPIURL = oldWeb, oldAPI })
}

const testWebhookURL = "https://kmend.example.com/webhook"

func TestAppRegister(t *testing.T) {
	for _, tt := range []struct {
		name       string
		dotcom     bool
		args       []string
		wantForm   string // the path the page posts to
		wantAPI    string // the conversion's path prefix
		wantURL    string // githubURL in the configuration
		wantOwner  string
		wantName   string
		wantSlug   string
		browserRan bool
	}{
		{name: "github.com", dotcom: true, wantForm: "/settings/apps/new", wantAPI: "/app-manifests/",
			wantURL: "https://github.com", wantOwner: githubfake.WebUser, wantName: "kmend", wantSlug: "kmend"},
		{name: "github.com organization", dotcom: true, args: []string{"--org", "acme", "--name", "kmend Acme"},
			wantForm: "/organizations/acme/settings/apps/new", wantAPI: "/app-manifests/", wantURL: "https://github.com",
			wantOwner: "acme", wantName: "kmend Acme", wantSlug: "kmend-acme"},
		{name: "enterprise server", wantForm: "/settings/apps/new", wantAPI: "/api/v3/app-manifests/",
			wantOwner: githubfake.WebUser, wantName: "kmend", wantSlug: "kmend", browserRan: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := githubfake.New(t, githubfake.Options{})
			host, paths := recordingProxy(t, f)
			dir := t.TempDir()
			cfgPath := filepath.Join(dir, "kmend.yaml")
			args := append([]string{"--webhook-url", testWebhookURL, "--config", cfgPath}, tt.args...)
			if tt.dotcom {
				useDotcom(t, host, host+"/")
				args = append(args, "--no-browser")
			} else {
				args = append(args, "--github-url", host+"/") // a trailing slash is fine
				tt.wantURL = host
			}
			// Without --no-browser the command starts a browser on the page.
			var opened []string
			old := openBrowser
			openBrowser = func(u string) error { opened = append(opened, u); return nil }
			t.Cleanup(func() { openBrowser = old })

			r := startRegister(t, args...)
			local := r.localURL(t)
			status, body := browse(t, local)
			if status != http.StatusOK || !strings.Contains(body, "is registered") {
				t.Fatalf("callback: %d\n%s", status, body)
			}
			if code := r.wait(t, 10*time.Second); code != exitOK {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, r.stdout.String(), r.stderr.String())
			}
			if tt.browserRan != (len(opened) == 1 && opened[0] == local) {
				t.Errorf("browser opened on %v (want it: %v)", opened, tt.browserRan)
			}

			// What went to GitHub: the form to the web host, the code to the API.
			app := f.App()
			posts := f.ManifestPosts()
			if len(posts) != 1 || posts[0].Status != http.StatusFound {
				t.Fatalf("manifest posts %+v", posts)
			}
			var sent appManifest
			if err := json.Unmarshal([]byte(posts[0].Manifest), &sent); err != nil {
				t.Fatal(err)
			}
			builtIn, err := parseAppManifest(appManifestYAML)
			if err != nil {
				t.Fatal(err)
			}
			if sent.Name != tt.wantName || sent.HookAttributes.URL != testWebhookURL || sent.RedirectURL != local+"callback" ||
				!reflect.DeepEqual(sent.DefaultPermissions, builtIn.DefaultPermissions) || !reflect.DeepEqual(sent.DefaultEvents, builtIn.DefaultEvents) ||
				sent.Public || sent.URL != builtIn.URL || len(posts[0].State) != 64 {
				t.Errorf("sent manifest %+v, state %q", sent, posts[0].State)
			}
			got := paths()
			wantSeq := []string{"POST " + tt.wantForm, "POST " + tt.wantAPI + posts[0].Code + "/conversions"}
			if !reflect.DeepEqual(got, wantSeq) {
				t.Errorf("requests to GitHub %q, want %q", got, wantSeq)
			}

			// The configuration and the key.
			for _, p := range []string{cfgPath, filepath.Join(dir, "kmend.private-key.pem")} {
				st, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if st.Mode().Perm() != 0o600 {
					t.Errorf("%s: mode %v, want 0600", filepath.Base(p), st.Mode().Perm())
				}
			}
			srv, err := config.LoadServer(cfgPath, func(string) string { return "" })
			if err != nil {
				t.Fatalf("LoadServer: %v", err)
			}
			if srv.AppID != app.ID || srv.AppSlug != tt.wantSlug || app.Slug != tt.wantSlug || string(srv.Secret()) != app.WebhookSecret ||
				srv.GitHubURL != tt.wantURL || srv.PrivateKeyPath != "kmend.private-key.pem" || !bytes.Equal(srv.PrivateKeyPEM(), app.PrivateKeyPEM) {
				t.Errorf("configuration %+v (secret matches: %v), App %d %s", srv, string(srv.Secret()) == app.WebhookSecret, app.ID, app.Slug)
			}
			block, _ := pem.Decode(srv.PrivateKeyPEM())
			if block == nil {
				t.Fatal("the key file is not PEM")
			}
			if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
				t.Errorf("the key file is not an RSA key: %v", err)
			}
			if tt.dotcom && srv.APIURL() != "https://api.github.com/" || !tt.dotcom && srv.APIURL() != host+"/api/v3/" {
				t.Errorf("APIURL %s", srv.APIURL())
			}

			// The output: the App, the next steps, no secret.
			out := r.stdout.String()
			for _, want := range []string{
				"Registered the GitHub App \"" + tt.wantName + "\"",
				"(ID " + strconv.FormatInt(app.ID, 10) + ")",
				"/apps/" + tt.wantSlug + "/installations/new",
				"kmend serve --config " + cfgPath,
			} {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			assertNoSecrets(t, out+r.stderr.String()+body, app)
		})
	}
}

func assertNoSecrets(t *testing.T, text string, app githubfake.App) {
	t.Helper()
	secrets := map[string]string{"webhook secret": app.WebhookSecret, "client secret": app.ClientSecret}
	for _, line := range strings.Split(string(app.PrivateKeyPEM), "\n") {
		if len(line) > 20 {
			secrets["private key"] = line
			break
		}
	}
	for what, s := range secrets {
		if s == "" || strings.Contains(text, s) {
			t.Errorf("the %s was printed (or is empty)", what)
		}
	}
	if strings.Contains(text, "PRIVATE KEY") {
		t.Error("a private key was printed")
	}
}

// A request to /callback with the wrong state is refused with 400 and the
// command goes on waiting: the right redirect still completes it.
func TestAppRegisterStateMismatch(t *testing.T) {
	f := githubfake.New(t, githubfake.Options{})
	dir := t.TempDir()
	r := startRegister(t, "--webhook-url", testWebhookURL, "--github-url", f.URL(), "--no-browser", "--config", filepath.Join(dir, "kmend.yaml"))
	local := r.localURL(t)
	for _, q := range []string{"?state=wrong&code=c0de", "?code=c0de", "?state=&code=c0de"} {
		resp, err := http.Get(local + "callback" + q)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "not from this registration") {
			t.Errorf("%s: %d\n%s", q, resp.StatusCode, body)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if !r.running() {
		t.Fatalf("the command stopped after a wrong state\nstderr:\n%s", r.stderr.String())
	}
	if n := f.TotalCalls(); n != 0 {
		t.Errorf("%d API calls after wrong states, want none: %v", n, f.Calls())
	}
	if !strings.Contains(r.stderr.String(), "still waiting") {
		t.Errorf("stderr does not say it refused the request:\n%s", r.stderr.String())
	}
	if status, body := browse(t, local); status != http.StatusOK {
		t.Fatalf("the real redirect after wrong ones: %d\n%s", status, body)
	}
	if code := r.wait(t, 10*time.Second); code != exitOK {
		t.Fatalf("exit %d\n%s", code, r.stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "kmend.yaml")); err != nil {
		t.Fatal(err)
	}
}

func TestAppRegisterTimeout(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "kmend.yaml")
	start := time.Now()
	code, out, errs := kmend(t, "", "app", "register", "--webhook-url", testWebhookURL, "--github-url", "https://github.example.com",
		"--no-browser", "--timeout", "200ms", "--config", cfg)
	if code != exitError || !strings.Contains(errs, "timed out after 200ms") || !strings.Contains(errs, "--timeout") || !strings.Contains(errs, "Nothing was written") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files written on timeout: %v", entries)
	}
	if !strings.Contains(out, "Open http://127.0.0.1:") {
		t.Errorf("no address printed:\n%s", out)
	}
}

func TestAppRegisterUsageErrors(t *testing.T) {
	dir := t.TempDir()
	existing := write(t, dir, "old.yaml", "version: 1\n")
	badManifest := write(t, dir, "bad.yml", "name: kmend\nurl: https://k.example\nhook_atributes: {url: https://h.example}\n")
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no webhook URL", nil, "--webhook-url is required"},
		{"relative webhook URL", []string{"--webhook-url", "/webhook"}, "absolute http(s) URL"},
		{"bad GitHub URL", []string{"--webhook-url", testWebhookURL, "--github-url", "github.example.com"}, "--github-url"},
		{"GitHub URL with a query", []string{"--webhook-url", testWebhookURL, "--github-url", "https://g.example/?a=b"}, "--github-url"},
		{"bad org", []string{"--webhook-url", testWebhookURL, "--org", "acme/x"}, "--org"},
		{"long name", []string{"--webhook-url", testWebhookURL, "--name", strings.Repeat("k", 35)}, "1 to 34 characters"},
		{"config exists", []string{"--webhook-url", testWebhookURL, "--config", existing}, "already exists"},
		{"config folder missing", []string{"--webhook-url", testWebhookURL, "--config", filepath.Join(dir, "nope", "k.yaml")}, "does not exist"},
		{"unknown manifest key", []string{"--webhook-url", testWebhookURL, "--config", filepath.Join(dir, "k.yaml"), "--manifest", badManifest}, "hook_atributes"},
		{"zero timeout", []string{"--webhook-url", testWebhookURL, "--timeout", "0s"}, "--timeout"},
		{"argument", []string{"--webhook-url", testWebhookURL, "extra"}, "unknown command"},
		{"bad listen", []string{"--webhook-url", testWebhookURL, "--config", filepath.Join(dir, "k.yaml"), "--listen", "256.0.0.1:0"}, "--listen"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"app", "register", "--no-browser", "--timeout", "5s"}, tt.args...)
			code, out, errs := kmend(t, "", args...)
			if code != exitError || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stderr %q, want 2 and %q", code, errs, tt.want)
			}
			if strings.Contains(out, "Open http") {
				t.Errorf("the flow started:\n%s", out)
			}
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "version: 1\n" {
		t.Error("the existing configuration was changed")
	}
	if code, out, _ := kmend(t, "", "app"); code != exitOK || !strings.Contains(out, "register") {
		t.Errorf("kmend app: exit %d\n%s", code, out)
	}
}

// --manifest sends another file, and --force replaces existing files.
func TestAppRegisterManifestFileAndForce(t *testing.T) {
	f := githubfake.New(t, githubfake.Options{})
	dir := t.TempDir()
	cfg := write(t, dir, "prod.yaml", "version: 1\n")
	write(t, dir, "prod.private-key.pem", "old key\n")
	custom := write(t, dir, "custom.json", `{"name": "kmend-staging", "url": "https://kmend.example.com", "hook_attributes": {"url": "https://placeholder.example"},
	  "redirect_url": "https://placeholder.example", "default_permissions": {"contents": "read", "metadata": "read"}, "default_events": ["push"]}`)
	r := startRegister(t, "--webhook-url", testWebhookURL, "--github-url", f.URL(), "--no-browser", "--config", cfg, "--manifest", custom, "--force", "-q")
	if status, body := browse(t, r.localURL(t)); status != http.StatusOK {
		t.Fatalf("%d\n%s", status, body)
	}
	if code := r.wait(t, 10*time.Second); code != exitOK {
		t.Fatalf("exit %d\n%s", code, r.stderr.String())
	}
	posts := f.ManifestPosts()
	var sent appManifest
	if err := json.Unmarshal([]byte(posts[0].Manifest), &sent); err != nil {
		t.Fatal(err)
	}
	if sent.Name != "kmend-staging" || !reflect.DeepEqual(sent.DefaultPermissions, map[string]string{"contents": "read", "metadata": "read"}) || sent.HookAttributes.URL != testWebhookURL {
		t.Errorf("sent %+v", sent)
	}
	srv, err := config.LoadServer(cfg, func(string) string { return "" })
	if err != nil || srv.AppSlug != "kmend-staging" || srv.PrivateKeyPath != "prod.private-key.pem" {
		t.Fatalf("%+v %v", srv, err)
	}
	if r.stderr.String() != "" {
		t.Errorf("-q: stderr %q", r.stderr.String())
	}
}

// The conversion fails (the code is refused): a clear error, exit 2,
// nothing written.
func TestAppRegisterConversionRefused(t *testing.T) {
	f := githubfake.New(t, githubfake.Options{})
	dir := t.TempDir()
	r := startRegister(t, "--webhook-url", testWebhookURL, "--github-url", f.URL(), "--no-browser", "--config", filepath.Join(dir, "kmend.yaml"))
	local := r.localURL(t)
	resp, err := http.Get(local)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	state := regexp.MustCompile(`state=([0-9a-f]{64})`).FindSubmatch(page)
	if state == nil {
		t.Fatalf("no state in the page:\n%s", page)
	}
	resp, err = http.Get(local + "callback?code=unknown&state=" + string(state[1]))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("status %d, want 502", resp.StatusCode)
	}
	if code := r.wait(t, 10*time.Second); code != exitError || !strings.Contains(r.stderr.String(), "GitHub refused the manifest code (HTTP 404") ||
		strings.Contains(r.stderr.String(), "unknown") {
		t.Errorf("exit %d\n%s", code, r.stderr.String())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files written: %v", entries)
	}
}

// The built-in manifest is the repository's app.yml, byte for byte.
func TestEmbeddedManifestIsAppYML(t *testing.T) {
	top, err := os.ReadFile(filepath.Join("..", "..", "app.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(top, appManifestYAML) {
		t.Fatal("cmd/kmend/app.yml differs from app.yml: copy it (cp app.yml cmd/kmend/app.yml)")
	}
}

// The manifest asks for the least permissions kmend works with, each
// event has its permission, and the JSON GitHub gets has the manifest
// flow's keys.
func TestAppManifest(t *testing.T) {
	m, err := parseAppManifest(appManifestYAML)
	if err != nil {
		t.Fatal(err)
	}
	wantPerms := map[string]string{"contents": "write", "pull_requests": "write", "issues": "write", "checks": "write", "metadata": "read"}
	if !reflect.DeepEqual(m.DefaultPermissions, wantPerms) {
		t.Errorf("permissions %v, want %v", m.DefaultPermissions, wantPerms)
	}
	if want := []string{"push", "pull_request", "issue_comment", "check_run"}; !reflect.DeepEqual(m.DefaultEvents, want) {
		t.Errorf("events %v, want %v", m.DefaultEvents, want)
	}
	if m.Name != "kmend" || m.Public || m.URL == "" || m.Description == "" || m.HookAttributes.Active == nil || !*m.HookAttributes.Active {
		t.Errorf("manifest %+v", m)
	}
	// Every permission and event is explained by a comment in app.yml.
	for k := range m.DefaultPermissions {
		if !regexp.MustCompile(`(?m)^  # .*\n(?:  # .*\n)*  ` + k + `: `).Match(appManifestYAML) {
			t.Errorf("permission %s has no comment above it", k)
		}
	}
	for _, e := range m.DefaultEvents {
		if !regexp.MustCompile(`(?m)^  # .*\n(?:  # .*\n)*  - ` + e + `\n`).Match(appManifestYAML) {
			t.Errorf("event %s has no comment above it", e)
		}
	}
	// YAML → JSON keeps only the manifest flow's keys.
	raw, err := yaml.YAMLToJSON(appManifestYAML)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		t.Fatal(err)
	}
	for k := range keys {
		switch k {
		case "name", "url", "hook_attributes", "redirect_url", "description", "public", "default_events", "default_permissions":
		default:
			t.Errorf("unexpected key %q", k)
		}
	}
}

// The page works in a real browser: its script posts the form by itself,
// GitHub (the stand-in) sends the browser back, and the command completes.
func TestAppRegisterHeadlessChromium(t *testing.T) {
	var browser string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		// The one skip TESTING.md allows: the browser binary is not
		// found (make test installs it where apt can).
		t.Skip("chromium not found: apt-get install -y chromium to run this test")
	}
	f := githubfake.New(t, githubfake.Options{})
	dir := t.TempDir()
	r := startRegister(t, "--webhook-url", testWebhookURL, "--github-url", f.URL(), "--no-browser", "--config", filepath.Join(dir, "kmend.yaml"))
	local := r.localURL(t)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=10000", "--dump-dom", local)
	var dom, chromeErr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &dom, &chromeErr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", browser, err, chromeErr.String())
	}
	if code := r.wait(t, 20*time.Second); code != exitOK {
		t.Fatalf("exit %d (the page did not post itself?)\nstdout:\n%s\nstderr:\n%s\nDOM:\n%s", code, r.stdout.String(), r.stderr.String(), dom.String())
	}
	if !strings.Contains(dom.String(), "is registered") {
		t.Errorf("the browser did not end on the success page:\n%s", dom.String())
	}
	if _, err := config.LoadServer(filepath.Join(dir, "kmend.yaml"), func(string) string { return "" }); err != nil {
		t.Error(err)
	}
}
