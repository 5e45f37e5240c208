package config

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const webhookSecret = "s3cr3t-webhook-value"

var (
	keyOnce sync.Once
	keyPEM  []byte // PKCS #1, as GitHub issues App keys
	key8PEM []byte // the same key in PKCS #8
	ecPEM   []byte
)

func testKeys(t *testing.T) {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			panic(err)
		}
		key8PEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		if der, err = x509.MarshalPKCS8PrivateKey(ec); err != nil {
			panic(err)
		}
		ecPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	})
}

// serverDir writes the files of a server configuration into a new
// directory: config.yaml (when cfg is not empty), app.pem and secret.
func serverDir(t *testing.T, cfg string) string {
	t.Helper()
	testKeys(t)
	dir := t.TempDir()
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("app.pem", keyPEM)
	write("app8.pem", key8PEM)
	write("ec.pem", ecPEM)
	write("secret", []byte(webhookSecret+"\n"))
	write("empty", []byte(" \n"))
	write("garbage.pem", []byte("not a key\n"))
	write("cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}}))
	write("broken.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte{1, 2, 3}}))
	if cfg != "" {
		write("config.yaml", []byte(cfg))
	}
	return dir
}

// envMap is an env function over a map.
func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadServer(t *testing.T) {
	dir := serverDir(t, `version: 1
appID: 123456
appSlug: kmend-bot
privateKeyPath: app.pem
webhookSecretFile: secret
githubURL: https://github.example.com
listenAddr: 127.0.0.1:9090
queueSize: 50
workers: 8
`)
	s, err := LoadServer(filepath.Join(dir, "config.yaml"), envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if s.AppID != 123456 || s.AppSlug != "kmend-bot" || s.PrivateKeyPath != "app.pem" || s.WebhookSecretFile != "secret" ||
		s.GitHubURL != "https://github.example.com" || s.ListenAddr != "127.0.0.1:9090" || s.QueueSize != 50 || s.Workers != 8 {
		t.Errorf("got %+v", s)
	}
	if string(s.Secret()) != webhookSecret {
		t.Errorf("secret %q, want the file's content without the newline", s.Secret())
	}
	if s.PrivateKey() == nil || !bytes.Equal(s.PrivateKeyPEM(), keyPEM) {
		t.Error("private key not loaded")
	}
	if !s.Enterprise() || s.APIURL() != "https://github.example.com/api/v3/" {
		t.Errorf("Enterprise %v APIURL %q", s.Enterprise(), s.APIURL())
	}
}

func TestLoadServerDefaults(t *testing.T) {
	dir := serverDir(t, "version: 1\nappID: 1\nprivateKeyPath: app8.pem\nwebhookSecret: "+webhookSecret+"\n")
	s, err := LoadServer(filepath.Join(dir, "config.yaml"), envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if s.GitHubURL != DefaultGitHubURL || s.ListenAddr != DefaultListenAddr || s.QueueSize != DefaultQueueSize || s.Workers != DefaultWorkers {
		t.Errorf("defaults not filled in: %+v", s)
	}
	if s.Enterprise() || s.APIURL() != "https://api.github.com/" {
		t.Errorf("Enterprise %v APIURL %q", s.Enterprise(), s.APIURL())
	}
	if s.PrivateKey() == nil || string(s.Secret()) != webhookSecret {
		t.Error("PKCS #8 key or inline secret not loaded")
	}
}

func TestLoadServerEnv(t *testing.T) {
	dir := serverDir(t, `version: 1
appID: 1
privateKeyPath: missing.pem
webhookSecretFile: missing-secret
githubURL: https://github.com
listenAddr: ":8080"
queueSize: 10
workers: 1
`)
	env := map[string]string{
		EnvAppID:          "987",
		EnvAppSlug:        "from-env",
		EnvPrivateKeyPath: filepath.Join(dir, "app.pem"),
		EnvWebhookSecret:  "env secret",
		EnvGitHubURL:      "https://ghe.example.org/api/v3",
		EnvListenAddr:     ":9999",
		EnvQueueSize:      "500",
		EnvWorkers:        " 16 ",
	}
	s, err := LoadServer(filepath.Join(dir, "config.yaml"), envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	if s.AppID != 987 || s.AppSlug != "from-env" || s.ListenAddr != ":9999" || s.QueueSize != 500 || s.Workers != 16 ||
		s.WebhookSecretFile != "" || string(s.Secret()) != "env secret" || s.APIURL() != "https://ghe.example.org/api/v3/" {
		t.Errorf("overrides not applied: %+v secret %q", s, s.Secret())
	}

	// Without a file, the environment is the whole configuration; a secret
	// file from the environment replaces the file's secret.
	env = map[string]string{
		EnvAppID:             "5",
		EnvPrivateKeyPath:    filepath.Join(dir, "app.pem"),
		EnvWebhookSecretFile: filepath.Join(dir, "secret"),
	}
	s, err = LoadServer("", envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	if s.AppID != 5 || string(s.Secret()) != webhookSecret || s.File != "" {
		t.Errorf("env only: %+v", s)
	}

	// Relative paths from the environment are not relative to the file.
	env = map[string]string{EnvPrivateKeyPath: "app.pem"}
	dir2 := serverDir(t, "version: 1\nappID: 1\nprivateKeyPath: app.pem\nwebhookSecret: x\n")
	t.Chdir(t.TempDir())
	if _, err := LoadServer(filepath.Join(dir2, "config.yaml"), envMap(env)); err == nil || !strings.Contains(err.Error(), "environment: KMEND_PRIVATE_KEY_PATH: cannot read the private key") {
		t.Errorf("relative env path resolved against the file's directory: %v", err)
	}
}

func TestLoadServerBad(t *testing.T) {
	base := "version: 1\nappID: 1\nprivateKeyPath: app.pem\nwebhookSecret: " + webhookSecret + "\n"
	tests := []struct {
		name string
		cfg  string // "" for no file
		env  map[string]string
		want []string // error texts, with <file> for the file's path
	}{
		{"unknown key", base + "webhookSecrets: x\n", nil, []string{`<file>:5: webhookSecrets: unknown key (known keys: appID, appSlug,`}},
		{"wrong version", "version: 3\nappID: 1\n", nil, []string{`<file>:1: version: unsupported version 3: this kmend reads version 1`}},
		{"no version", "appID: 1\n", nil, []string{`<file>:1: version: missing`}},
		{"missing everything", "version: 1\n", nil, []string{
			`<file>: appID: missing: the GitHub App's ID is required (set appID or KMEND_APP_ID)`,
			`<file>: privateKeyPath: missing: the GitHub App's private key is required (set privateKeyPath or KMEND_PRIVATE_KEY_PATH)`,
			`<file>: webhookSecret: missing: kmend refuses to accept unsigned webhooks`,
		}},
		{"nothing at all", "", nil, []string{
			`environment: KMEND_APP_ID: missing`,
			`environment: KMEND_PRIVATE_KEY_PATH: missing`,
			`environment: KMEND_WEBHOOK_SECRET: missing`,
		}},
		{"negative app ID", strings.Replace(base, "appID: 1", "appID: -4", 1), nil, []string{`<file>:2: appID: must be a positive number, not -4`}},
		{"app ID as text", strings.Replace(base, "appID: 1", "appID: one", 1), nil, []string{`<file>:2: appID: must be a whole number, not "one"`}},
		{"app ID from env", base, map[string]string{EnvAppID: "12a"}, []string{`environment: KMEND_APP_ID: "12a" is not a whole number`}},
		{"bad slug", base + "appSlug: Bad Slug\n", nil, []string{`<file>:5: appSlug: "Bad Slug" is not a GitHub App slug`}},
		{"key file missing", strings.Replace(base, "app.pem", "nope.pem", 1), nil, []string{`<file>:3: privateKeyPath: cannot read the private key: <dir>/nope.pem: no such file or directory`}},
		{"key not PEM", strings.Replace(base, "app.pem", "garbage.pem", 1), nil, []string{`<file>:3: privateKeyPath: <dir>/garbage.pem is not a PEM file`}},
		{"key a certificate", strings.Replace(base, "app.pem", "cert.pem", 1), nil, []string{`<file>:3: privateKeyPath: <dir>/cert.pem holds a PEM block of type "CERTIFICATE", not an RSA private key`}},
		{"key broken", strings.Replace(base, "app.pem", "broken.pem", 1), nil, []string{`<file>:3: privateKeyPath: <dir>/broken.pem: cannot parse the RSA private key`}},
		{"key not RSA", strings.Replace(base, "app.pem", "ec.pem", 1), nil, []string{`<file>:3: privateKeyPath: <dir>/ec.pem holds a *ecdsa.PrivateKey, not an RSA key`}},
		{"both secrets", base + "webhookSecretFile: secret\n", nil, []string{`<file>:5: webhookSecretFile: set webhookSecret or webhookSecretFile, not both`}},
		{"empty secret", strings.Replace(base, webhookSecret, `""`, 1), nil, []string{`<file>:4: webhookSecret: missing`}},
		{"blank secret", strings.Replace(base, webhookSecret, `"  "`, 1), nil, []string{`<file>:4: webhookSecret: is only white space`}},
		{"empty secret file", strings.Replace(base, "webhookSecret: "+webhookSecret, "webhookSecretFile: empty", 1), nil, []string{`<file>:4: webhookSecretFile: the file is empty`}},
		{"missing secret file", strings.Replace(base, "webhookSecret: "+webhookSecret, "webhookSecretFile: gone", 1), nil, []string{`<file>:4: webhookSecretFile: cannot read the webhook secret: <dir>/gone: no such file or directory`}},
		{"bad URL", base + "githubURL: ftp://github.example.com\n", nil, []string{`<file>:5: githubURL: "ftp://github.example.com": must be an http or https URL`}},
		{"URL with credentials", base + "githubURL: https://u:p@ghe.example.com\n", nil, []string{`<file>:5: githubURL: "https://u:p@ghe.example.com": must not carry credentials`}},
		{"URL from env", base, map[string]string{EnvGitHubURL: "github.example.com"}, []string{`environment: KMEND_GITHUB_URL: "github.example.com": must be an http or https URL`}},
		{"bad listen address", base + "listenAddr: \"8080\"\n", nil, []string{`<file>:5: listenAddr: "8080" is not host:port`}},
		{"bad port", base + "listenAddr: \":http-alt\"\n", nil, []string{`<file>:5: listenAddr: ":http-alt": bad port`}},
		{"queue too big", base + "queueSize: 1000000\n", nil, []string{`<file>:5: queueSize: 1000000 is outside 1-100000`}},
		{"workers from env", base, map[string]string{EnvWorkers: "1000"}, []string{`environment: KMEND_WORKERS: 1000 is outside 1-256`}},
		{"workers not a number", base + "workers: many\n", nil, []string{`<file>:5: workers: must be a whole number, not "many"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := serverDir(t, tt.cfg)
			path := ""
			if tt.cfg != "" {
				path = filepath.Join(dir, "config.yaml")
			}
			s, err := LoadServer(path, envMap(tt.env))
			if err == nil {
				t.Fatalf("no error: %+v", s)
			}
			errs := Errors(err)
			if len(errs) != len(tt.want) {
				t.Fatalf("%d errors, want %d:\n%v", len(errs), len(tt.want), err)
			}
			for i, e := range errs {
				want := strings.NewReplacer("<file>", path, "<dir>", dir).Replace(tt.want[i])
				if !strings.HasPrefix(e.Error(), want) {
					t.Errorf("error %d:\n got  %s\n want %s...", i, e, want)
				}
			}
			for _, secret := range []string{webhookSecret, string(keyPEM[40:80])} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error contains secret material: %v", err)
				}
			}
		})
	}
}

// TestSecretsNotPrinted: fmt and slog never show the secret or the key.
func TestSecretsNotPrinted(t *testing.T) {
	dir := serverDir(t, "version: 1\nappID: 1\nprivateKeyPath: app.pem\nwebhookSecret: "+webhookSecret+"\n")
	s, err := LoadServer(filepath.Join(dir, "config.yaml"), envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "server", s)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "secret", s.WebhookSecret)
	out := fmt.Sprintf("%v %+v %#v %s %q %x", s.WebhookSecret, s.WebhookSecret, s.WebhookSecret, s.WebhookSecret, s.WebhookSecret, s.WebhookSecret) +
		fmt.Sprintf("%v %+v", *s, s) + logged.String()
	if strings.Contains(out, webhookSecret) || strings.Contains(out, fmt.Sprintf("%x", webhookSecret)) {
		t.Errorf("secret printed: %s", out)
	}
	if !strings.Contains(logged.String(), `"appID":1`) || !strings.Contains(logged.String(), `"webhookSecretSet":true`) {
		t.Errorf("LogValue lacks the settings: %s", logged.String())
	}
}

// TestWrite: Write produces a 0600 file, atomically, that LoadServer reads
// back; it refuses configurations LoadServer would reject.
func TestWrite(t *testing.T) {
	dir := serverDir(t, "")
	path := filepath.Join(dir, "kmend.yaml")
	// An existing file with looser permissions is replaced, not rewritten.
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &Server{AppID: 4242, AppSlug: "kmend", PrivateKeyPath: "app.pem", WebhookSecret: webhookSecret, GitHubURL: "https://ghe.example.com", QueueSize: 7}
	if err := s.Write(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), "# kmend server configuration") || !strings.Contains(string(data), "version: 1\nappID: 4242\n") {
		t.Errorf("written:\n%s", data)
	}
	got, err := LoadServer(path, envMap(nil))
	if err != nil {
		t.Fatalf("LoadServer of the written file: %v\n%s", err, data)
	}
	if got.AppID != 4242 || got.AppSlug != "kmend" || string(got.Secret()) != webhookSecret || got.GitHubURL != "https://ghe.example.com" ||
		got.QueueSize != 7 || got.Workers != DefaultWorkers || got.PrivateKey() == nil {
		t.Errorf("round trip: %+v", got)
	}

	// A secret file is written as a path, never as its content.
	s = &Server{AppID: 1, PrivateKeyPath: "app.pem", WebhookSecretFile: "secret"}
	if err := s.Write(path); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); strings.Contains(string(data), webhookSecret) || !strings.Contains(string(data), "webhookSecretFile: secret") {
		t.Errorf("written:\n%s", data)
	}

	bad := &Server{PrivateKeyPath: "app.pem", WebhookSecret: "x"}
	if err := bad.Write(path); err == nil || !strings.Contains(err.Error(), "appID: missing") {
		t.Errorf("Write of a configuration without app ID: %v", err)
	}
	if err := s.Write(filepath.Join(dir, "no-such-dir", "kmend.yaml")); err == nil {
		t.Error("Write into a missing directory succeeded")
	}
}
