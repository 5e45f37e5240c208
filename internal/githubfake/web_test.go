package githubfake

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// noRedirect is an HTTP client that stops at the first redirect.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func postManifest(t *testing.T, target, manifest string) *http.Response {
	t.Helper()
	resp, err := noRedirect.PostForm(target, url.Values{"manifest": {manifest}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

const goodManifest = `{
  "name": "kmend Acme",
  "url": "https://github.com/kmend/kmend",
  "description": "Fixes findings.",
  "hook_attributes": {"url": "https://kmend.example.com/webhook"},
  "redirect_url": "http://127.0.0.1:9/callback?x=1",
  "public": false,
  "default_permissions": {"contents": "write", "pull_requests": "write", "issues": "write", "checks": "write", "metadata": "read"},
  "default_events": ["push", "pull_request", "issue_comment", "check_run"]
}`

func TestWebManifestFlow(t *testing.T) {
	for _, tt := range []struct {
		name, path, org, owner string
	}{
		{"user", "/settings/apps/new", "", WebUser},
		{"organization", "/organizations/acme-corp/settings/apps/new", "acme-corp", "acme-corp"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := New(t, Options{})
			before := f.App()
			resp := postManifest(t, f.URL()+tt.path+"?state=s%20t", goodManifest)
			if resp.StatusCode != http.StatusFound {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			loc, err := url.Parse(resp.Header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			q := loc.Query()
			if loc.Host != "127.0.0.1:9" || loc.Path != "/callback" || q.Get("x") != "1" || q.Get("state") != "s t" || q.Get("code") == "" {
				t.Fatalf("redirect to %s", loc)
			}
			posts := f.ManifestPosts()
			if len(posts) != 1 || posts[0].Org != tt.org || posts[0].Code != q.Get("code") || posts[0].Manifest != goodManifest {
				t.Errorf("posts %+v", posts)
			}
			if f.TotalCalls() != 0 {
				t.Errorf("the web page counted as API calls: %v", f.Calls())
			}

			gh := clientAt(t, nil, f.EnterpriseURL()+"/")
			cfg, _, err := gh.Apps.CompleteAppManifest(context.Background(), q.Get("code"))
			if err != nil {
				t.Fatalf("conversion: %v", err)
			}
			after := f.App()
			if cfg.GetID() == before.ID || cfg.GetID() != after.ID || cfg.GetName() != "kmend Acme" || cfg.GetSlug() != "kmend-acme" ||
				after.Slug != "kmend-acme" || cfg.GetOwner().GetLogin() != tt.owner || cfg.GetDescription() != "Fixes findings." ||
				cfg.GetExternalURL() != "https://github.com/kmend/kmend" || cfg.GetWebhookSecret() != after.WebhookSecret || cfg.GetPEM() != string(after.PrivateKeyPEM) {
				t.Errorf("config %+v (owner %s), app after %+v", cfg, cfg.GetOwner().GetLogin(), after)
			}
			// GET /app shows the manifest's permissions and events.
			app, _, err := appClient(t, f).Apps.Get(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			wantPerms := map[string]string{"contents": "write", "pull_requests": "write", "issues": "write", "checks": "write", "metadata": "read"}
			got := map[string]string{"contents": app.GetPermissions().GetContents(), "pull_requests": app.GetPermissions().GetPullRequests(),
				"issues": app.GetPermissions().GetIssues(), "checks": app.GetPermissions().GetChecks(), "metadata": app.GetPermissions().GetMetadata()}
			if !reflect.DeepEqual(got, wantPerms) || !reflect.DeepEqual(app.Events, []string{"check_run", "issue_comment", "pull_request", "push"}) {
				t.Errorf("GET /app: permissions %v events %v", got, app.Events)
			}
			if _, _, err := gh.Apps.CompleteAppManifest(context.Background(), q.Get("code")); !isStatus(err, http.StatusNotFound) {
				t.Errorf("code used twice: %v, want 404", err)
			}
		})
	}
}

func TestWebManifestRefused(t *testing.T) {
	f := New(t, Options{})
	for _, tt := range []struct{ name, manifest, want string }{
		{"empty", "", "no manifest field"},
		{"not JSON", "name: kmend", "not a JSON object"},
		{"no url", `{"hook_attributes":{"url":"https://h.example/w"},"redirect_url":"http://127.0.0.1/cb"}`, "url is missing"},
		{"no hook", `{"url":"https://k.example","redirect_url":"http://127.0.0.1/cb"}`, "hook_attributes is missing"},
		{"relative hook", `{"url":"https://k.example","hook_attributes":{"url":"/webhook"},"redirect_url":"http://127.0.0.1/cb"}`, "hook_attributes.url"},
		{"no redirect", `{"url":"https://k.example","hook_attributes":{"url":"https://h.example/w"}}`, "redirect_url is missing"},
		{"long name", `{"name":"` + strings.Repeat("k", 35) + `","url":"https://k.example","hook_attributes":{"url":"https://h.example/w"},"redirect_url":"http://127.0.0.1/cb"}`, "1-34 characters"},
		{"bad permission", `{"url":"https://k.example","hook_attributes":{"url":"https://h.example/w"},"redirect_url":"http://127.0.0.1/cb","default_permissions":{"contents":"all"}}`, "not read, write or admin"},
		{"event without permission", `{"url":"https://k.example","hook_attributes":{"url":"https://h.example/w"},"redirect_url":"http://127.0.0.1/cb","default_events":["push"]}`, `"push" needs the contents permission`},
		{"implicit event", `{"url":"https://k.example","hook_attributes":{"url":"https://h.example/w"},"redirect_url":"http://127.0.0.1/cb","default_events":["installation"]}`, "sent to every GitHub App"},
	} {
		resp := postManifest(t, f.URL()+"/settings/apps/new?state=x", tt.manifest)
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(b), tt.want) {
			t.Errorf("%s: %d %q, want 422 with %q", tt.name, resp.StatusCode, b, tt.want)
		}
	}
	if posts := f.ManifestPosts(); len(posts) != 10 || posts[0].Code != "" || posts[0].Status != http.StatusUnprocessableEntity {
		t.Errorf("posts %+v", posts)
	}
	// GET is not the flow; the API prefix does not serve web pages.
	if resp, err := http.Get(f.URL() + "/settings/apps/new"); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %v %v", resp.StatusCode, err)
	}
	f.ResetErrors() // the next call is to a path the API does not have
	resp := postManifest(t, f.EnterpriseURL()+"/settings/apps/new?state=x", goodManifest)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("web page under %s: %d, want 404", EnterprisePrefix, resp.StatusCode)
	}
	f.ResetErrors()
}
