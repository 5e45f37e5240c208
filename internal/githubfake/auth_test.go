package githubfake

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"
)

// signJWT makes an RS256 JWT with the given claims.
func signJWT(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func appKey(t *testing.T, f *Fake) *rsa.PrivateKey {
	t.Helper()
	block, _ := pem.Decode(f.App().PrivateKeyPEM)
	if block == nil {
		t.Fatal("App key is not PEM")
	}
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestAppJWT(t *testing.T) {
	f := New(t, Options{AppID: 77, AppSlug: "kmend-test"})
	ctx := context.Background()
	app, _, err := appClient(t, f).Apps.Get(ctx, "")
	if err != nil {
		t.Fatalf("GET /app with a good JWT: %v", err)
	}
	if app.GetID() != 77 || app.GetSlug() != "kmend-test" {
		t.Errorf("app %d %s", app.GetID(), app.GetSlug())
	}

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	good := map[string]any{"iss": "77", "iat": now.Add(-30 * time.Second).Unix(), "exp": now.Add(2 * time.Minute).Unix()}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range good {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	cases := []struct {
		name  string
		auth  string
		want  int
		inMsg string
	}{
		{"good", "Bearer " + signJWT(t, appKey(t, f), good), http.StatusOK, ""},
		{"numeric iss", "Bearer " + signJWT(t, appKey(t, f), with("iss", 77)), http.StatusOK, ""},
		{"other key", "Bearer " + signJWT(t, other, good), http.StatusUnauthorized, "could not be decoded"},
		{"wrong iss", "Bearer " + signJWT(t, appKey(t, f), with("iss", "78")), http.StatusUnauthorized, "Integration not found"},
		{"expired", "Bearer " + signJWT(t, appKey(t, f), with("exp", now.Add(-time.Minute).Unix())), http.StatusUnauthorized, "exp"},
		{"too long", "Bearer " + signJWT(t, appKey(t, f), with("exp", now.Add(20*time.Minute).Unix())), http.StatusUnauthorized, "too far"},
		{"garbage", "Bearer not.a.jwt", http.StatusUnauthorized, "could not be decoded"},
		{"none", "", http.StatusUnauthorized, ""},
		{"installation token", "token " + f.InstallationToken(f.Install("acme")), http.StatusUnauthorized, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", f.URL()+"/app", nil)
			req.Header.Set("Accept", "application/vnd.github+json")
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct{ Message string }
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != tc.want || !strings.Contains(body.Message, tc.inMsg) {
				t.Errorf("status %d %q, want %d with %q", resp.StatusCode, body.Message, tc.want, tc.inMsg)
			}
		})
	}

	// go-github sees the 401 of a JWT signed with another key.
	otherPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)})
	tr, err := ghinstallation.NewAppsTransport(http.DefaultTransport, 77, otherPEM)
	if err != nil {
		t.Fatal(err)
	}
	tr.BaseURL = f.URL()
	if _, _, err := clientAt(t, &http.Client{Transport: tr}, f.URL()+"/").Apps.ListInstallations(ctx, nil); !isStatus(err, http.StatusUnauthorized) {
		t.Errorf("installations with a bad JWT: %v, want 401", err)
	}
}

func TestInstallationTokens(t *testing.T) {
	f := New(t, Options{})
	f.AddRepo("acme", "shop", sampleFiles)
	inst := f.Install("acme")
	ctx := context.Background()

	if _, _, err := tokenClient(t, f, "ghs_unknown").Repositories.Get(ctx, "acme", "shop"); !isStatus(err, http.StatusUnauthorized) {
		t.Errorf("unknown token: %v, want 401", err)
	}
	if _, _, err := clientAt(t, nil, f.URL()+"/").Repositories.Get(ctx, "acme", "shop"); !isStatus(err, http.StatusUnauthorized) {
		t.Errorf("no token: %v, want 401", err)
	}
	if _, _, err := tokenClient(t, f, "ghs_x").Apps.CreateInstallationToken(ctx, inst, &github.InstallationTokenOptions{}); !isStatus(err, http.StatusUnauthorized) {
		t.Errorf("token endpoint with a token instead of a JWT: %v, want 401", err)
	}
	if _, _, err := appClient(t, f).Apps.CreateInstallationToken(ctx, 999999, &github.InstallationTokenOptions{}); !isStatus(err, http.StatusNotFound) {
		t.Errorf("token for an unknown installation: %v, want 404", err)
	}

	gh, _ := installClient(t, f, inst)
	if _, _, err := gh.Repositories.Get(ctx, "acme", "shop"); err != nil {
		t.Fatalf("with a fresh token: %v", err)
	}
	// ghinstallation keeps its token until it nears expiry: once GitHub
	// expires it, calls fail with 401.
	f.ExpireTokens()
	if _, _, err := gh.Repositories.Get(ctx, "acme", "shop"); !isStatus(err, http.StatusUnauthorized) {
		t.Errorf("expired token: %v, want 401", err)
	}
	gh2, _ := installClient(t, f, inst)
	if _, _, err := gh2.Repositories.Get(ctx, "acme", "shop"); err != nil {
		t.Errorf("new token after expiry: %v", err)
	}

	// A short TTL as ghinstallation sees it: it refreshes by itself.
	g := New(t, Options{TokenTTL: 30 * time.Second})
	g.AddRepo("acme", "shop", sampleFiles)
	gh3, _ := installClient(t, g, g.Install("acme"))
	for i := 0; i < 2; i++ {
		if _, _, err := gh3.Repositories.Get(ctx, "acme", "shop"); err != nil {
			t.Fatal(err)
		}
	}
	if n := g.Calls()["POST /app/installations/{installation_id}/access_tokens"]; n != 2 {
		t.Errorf("token requests with a 30s TTL: %d, want one per call", n)
	}

	// Permissions: without checks:write a check run is 403.
	f.SetPermissions(inst, map[string]string{"metadata": "read", "contents": "read"})
	ro := tokenClient(t, f, f.InstallationToken(inst))
	sha, _ := f.Branch("acme", "shop", "main")
	if _, _, err := ro.Checks.CreateCheckRun(ctx, "acme", "shop", github.CreateCheckRunOptions{Name: "x", HeadSHA: sha}); !isStatus(err, http.StatusForbidden) {
		t.Errorf("check run without checks:write: %v, want 403", err)
	}

	// A user token acts as that person.
	alice := tokenClient(t, f, f.UserToken("alice"))
	cm, _, err := alice.Issues.CreateComment(ctx, "acme", "shop", f.AddIssue("acme", "shop", "bob", "bug"), &github.IssueComment{Body: github.String("hi")})
	if err != nil || cm.GetUser().GetLogin() != "alice" {
		t.Errorf("comment as alice: %v %v", cm.GetUser().GetLogin(), err)
	}
}

func TestManifestConversion(t *testing.T) {
	f := New(t, Options{})
	f.AddRepo("acme", "shop", sampleFiles)
	before := f.App()
	f.AddManifestCode("c0de")
	ctx := context.Background()
	gh := clientAt(t, nil, f.URL()+"/")
	cfg, _, err := gh.Apps.CompleteAppManifest(ctx, "c0de")
	if err != nil {
		t.Fatalf("conversion: %v", err)
	}
	after := f.App()
	if cfg.GetID() == before.ID || cfg.GetID() != after.ID || cfg.GetPEM() != string(after.PrivateKeyPEM) ||
		cfg.GetWebhookSecret() == "" || cfg.GetClientSecret() == "" || cfg.GetSlug() != after.Slug {
		t.Errorf("config %+v, app after %+v", cfg, after)
	}
	if _, _, err := gh.Apps.CompleteAppManifest(ctx, "c0de"); !isStatus(err, http.StatusNotFound) {
		t.Errorf("code used twice: %v, want 404", err)
	}
	// The new credentials work; the old key does not.
	tr, err := ghinstallation.NewAppsTransport(http.DefaultTransport, cfg.GetID(), []byte(cfg.GetPEM()))
	if err != nil {
		t.Fatal(err)
	}
	tr.BaseURL = f.URL()
	if _, _, err := clientAt(t, &http.Client{Transport: tr}, f.URL()+"/").Apps.Get(ctx, ""); err != nil {
		t.Errorf("GET /app with the converted App: %v", err)
	}
	old, err := ghinstallation.NewAppsTransport(http.DefaultTransport, before.ID, before.PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	old.BaseURL = f.URL()
	if _, _, err := clientAt(t, &http.Client{Transport: old}, f.URL()+"/").Apps.Get(ctx, ""); !isStatus(err, http.StatusUnauthorized) {
		t.Errorf("old App key: %v, want 401", err)
	}
}
