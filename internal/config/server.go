package config

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kmend/kmend/internal/lazyre"
)

// Defaults of the server configuration.
const (
	DefaultGitHubURL  = "https://github.com"
	DefaultListenAddr = ":8080"
	DefaultQueueSize  = 100
	DefaultWorkers    = 4

	MaxQueueSize = 100000
	MaxWorkers   = 256
)

// Environment variables that override the server configuration file.
const (
	EnvAppID             = "KMEND_APP_ID"
	EnvAppSlug           = "KMEND_APP_SLUG"
	EnvPrivateKeyPath    = "KMEND_PRIVATE_KEY_PATH"
	EnvWebhookSecret     = "KMEND_WEBHOOK_SECRET"
	EnvWebhookSecretFile = "KMEND_WEBHOOK_SECRET_FILE"
	EnvGitHubURL         = "KMEND_GITHUB_URL"
	EnvListenAddr        = "KMEND_LISTEN_ADDR"
	EnvQueueSize         = "KMEND_QUEUE_SIZE"
	EnvWorkers           = "KMEND_WORKERS"
)

// envSource is the File of errors about environment variables.
const envSource = "environment"

// Secret is a string that prints as "[redacted]" with fmt and slog, so
// that a configuration can be logged. Its YAML form is the real value.
type Secret string

func (Secret) String() string              { return "[redacted]" }
func (Secret) GoString() string            { return `"[redacted]"` }
func (Secret) LogValue() slog.Value        { return slog.StringValue("[redacted]") }
func (s Secret) MarshalYAML() (any, error) { return string(s), nil }

// Server is the configuration of `kmend serve`: the file's keys (as
// written, after the environment's overrides) and, once LoadServer has
// checked them, the private key and the webhook secret they lead to.
type Server struct {
	// AppID is the GitHub App's numeric ID. Required.
	AppID int64
	// AppSlug is the App's URL name; its bot user is "<slug>[bot]".
	// Optional.
	AppSlug string
	// PrivateKeyPath is the App's private key (PEM, RSA), relative to the
	// configuration file's directory unless absolute. Required.
	PrivateKeyPath string
	// WebhookSecret is the webhook secret itself; set it or
	// WebhookSecretFile, not both.
	WebhookSecret Secret
	// WebhookSecretFile is a file holding the webhook secret (trailing
	// white space is dropped), relative like PrivateKeyPath.
	WebhookSecretFile string
	// GitHubURL is the web address of GitHub, or of a GitHub Enterprise
	// Server ("https://github.example.com"). DefaultGitHubURL when empty.
	GitHubURL string
	// ListenAddr is the HTTP server's address, DefaultListenAddr when
	// empty.
	ListenAddr string
	// QueueSize is how many webhook events may wait for a worker,
	// DefaultQueueSize when 0.
	QueueSize int
	// Workers is how many webhook events are handled at once,
	// DefaultWorkers when 0.
	Workers int

	// File is the file LoadServer read, "" when there was none.
	File string

	privateKey    *rsa.PrivateKey
	privateKeyPEM []byte
	secret        []byte
}

// serverFile is the YAML form of Server, in the order Write writes it.
type serverFile struct {
	Version           int    `yaml:"version"`
	AppID             int64  `yaml:"appID"`
	AppSlug           string `yaml:"appSlug,omitempty"`
	PrivateKeyPath    string `yaml:"privateKeyPath"`
	WebhookSecret     Secret `yaml:"webhookSecret,omitempty"`
	WebhookSecretFile string `yaml:"webhookSecretFile,omitempty"`
	GitHubURL         string `yaml:"githubURL,omitempty"`
	ListenAddr        string `yaml:"listenAddr,omitempty"`
	QueueSize         int    `yaml:"queueSize,omitempty"`
	Workers           int    `yaml:"workers,omitempty"`
}

// origin is where a server setting came from, for error messages.
type origin struct {
	line int    // in the file, when env is ""
	env  string // the environment variable
}

// serverLoader gathers a Server and remembers where each key came from.
type serverLoader struct {
	d      *decoder
	s      *Server
	dir    string // relative paths in the file are relative to it
	origin map[string]origin
}

// LoadServer reads the server configuration at path (none when path is
// ""), applies the environment's overrides (env is os.Getenv when nil; an
// empty value is no override), fills in the defaults and checks the
// result: the App ID is positive, the private key is an RSA key in PEM, a
// webhook secret is set and not empty, the URL and the address are valid.
// Errors (*Error, joined) name the file and line, or the environment
// variable, of each bad setting; they never contain a secret or key.
func LoadServer(path string, env func(string) string) (*Server, error) {
	if env == nil {
		env = os.Getenv
	}
	l := &serverLoader{d: &decoder{file: path}, s: &Server{File: path}, origin: map[string]origin{}}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read server configuration: %w", err)
		}
		l.dir = filepath.Dir(path)
		l.parse(data)
		if len(l.d.errs) > 0 {
			return nil, l.d.err()
		}
	}
	l.env(env)
	l.defaults()
	l.check()
	if len(l.d.errs) > 0 {
		return nil, l.d.err()
	}
	return l.s, nil
}

func (l *serverLoader) parse(data []byte) {
	d, s := l.d, l.s
	root := d.parseDocument(data)
	if len(d.errs) > 0 {
		return
	}
	if root == nil {
		d.errs = append(d.errs, &Error{File: d.file, Key: "version", Msg: fmt.Sprintf("missing: the file is empty; start it with \"version: %d\"", Version)})
		return
	}
	if root = resolve(root); root.Kind != yaml.MappingNode {
		d.fail(root, "", "must be a mapping of keys, not %s", describe(root))
		return
	}
	if !d.version(root) {
		return
	}
	str := func(dst *string) field {
		return func(key string, v *yaml.Node) {
			if x, ok := d.str(v, key); ok {
				*dst = x
				l.origin[key] = origin{line: v.Line}
			}
		}
	}
	num := func(dst *int) field {
		return func(key string, v *yaml.Node) {
			if x, ok := d.integer(v, key); ok {
				*dst = int(x)
				l.origin[key] = origin{line: v.Line}
			}
		}
	}
	d.mapping(root, "", map[string]field{
		"version": func(string, *yaml.Node) {},
		"appID": func(key string, v *yaml.Node) {
			if x, ok := d.integer(v, key); ok {
				s.AppID = x
				l.origin[key] = origin{line: v.Line}
			}
		},
		"appSlug":        str(&s.AppSlug),
		"privateKeyPath": str(&s.PrivateKeyPath),
		"webhookSecret": func(key string, v *yaml.Node) {
			if x, ok := d.str(v, key); ok {
				s.WebhookSecret = Secret(x)
				l.origin[key] = origin{line: v.Line}
			}
		},
		"webhookSecretFile": str(&s.WebhookSecretFile),
		"githubURL":         str(&s.GitHubURL),
		"listenAddr":        str(&s.ListenAddr),
		"queueSize":         num(&s.QueueSize),
		"workers":           num(&s.Workers),
	})
}

// env applies the environment's overrides. A secret given in the
// environment replaces both secret keys of the file, as does a secret file.
func (l *serverLoader) env(env func(string) string) {
	s := l.s
	set := func(name, key string, apply func(v string) error) {
		v := strings.TrimSpace(env(name))
		if v == "" {
			return
		}
		if err := apply(v); err != nil {
			l.d.errs = append(l.d.errs, &Error{File: envSource, Key: name, Msg: err.Error()})
			return
		}
		l.origin[key] = origin{env: name}
	}
	atoi := func(dst *int) func(string) error {
		return func(v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%q is not a whole number", v)
			}
			*dst = n
			return nil
		}
	}
	set(EnvAppID, "appID", func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		s.AppID = n
		return nil
	})
	set(EnvAppSlug, "appSlug", func(v string) error { s.AppSlug = v; return nil })
	set(EnvPrivateKeyPath, "privateKeyPath", func(v string) error { s.PrivateKeyPath = v; return nil })
	set(EnvWebhookSecretFile, "webhookSecretFile", func(v string) error {
		s.WebhookSecretFile, s.WebhookSecret = v, ""
		delete(l.origin, "webhookSecret")
		return nil
	})
	// Not trimmed: the secret is used exactly as given.
	if v := env(EnvWebhookSecret); v != "" {
		s.WebhookSecret, s.WebhookSecretFile = Secret(v), ""
		delete(l.origin, "webhookSecretFile")
		l.origin["webhookSecret"] = origin{env: EnvWebhookSecret}
	}
	set(EnvGitHubURL, "githubURL", func(v string) error { s.GitHubURL = v; return nil })
	set(EnvListenAddr, "listenAddr", func(v string) error { s.ListenAddr = v; return nil })
	set(EnvQueueSize, "queueSize", atoi(&s.QueueSize))
	set(EnvWorkers, "workers", atoi(&s.Workers))
}

func (l *serverLoader) defaults() {
	s := l.s
	if s.GitHubURL == "" {
		s.GitHubURL = DefaultGitHubURL
	}
	if s.ListenAddr == "" {
		s.ListenAddr = DefaultListenAddr
	}
	if s.QueueSize == 0 {
		s.QueueSize = DefaultQueueSize
	}
	if s.Workers == 0 {
		s.Workers = DefaultWorkers
	}
}

// envNames maps the file's keys to their environment variables.
var envNames = map[string]string{
	"appID": EnvAppID, "appSlug": EnvAppSlug, "privateKeyPath": EnvPrivateKeyPath,
	"webhookSecret": EnvWebhookSecret, "webhookSecretFile": EnvWebhookSecretFile,
	"githubURL": EnvGitHubURL, "listenAddr": EnvListenAddr, "queueSize": EnvQueueSize, "workers": EnvWorkers,
}

// fail records a mistake in the setting key, where it came from.
func (l *serverLoader) fail(key, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	o, ok := l.origin[key]
	switch {
	case ok && o.env != "":
		l.d.errs = append(l.d.errs, &Error{File: envSource, Key: o.env, Msg: msg})
	case ok:
		l.d.errs = append(l.d.errs, &Error{File: l.d.file, Line: o.line, Key: key, Msg: msg})
	case l.d.file != "":
		l.d.errs = append(l.d.errs, &Error{File: l.d.file, Key: key, Msg: msg + " (set " + key + " or " + envNames[key] + ")"})
	default:
		l.d.errs = append(l.d.errs, &Error{File: envSource, Key: envNames[key], Msg: msg})
	}
}

// check validates the settings and loads the private key and the secret.
func (l *serverLoader) check() {
	s := l.s
	for _, p := range s.staticProblems() {
		l.fail(p.key, "%s", p.msg)
	}
	if s.PrivateKeyPath != "" {
		pemBytes, key, err := readPrivateKey(l.path(s.PrivateKeyPath, "privateKeyPath"))
		if err != nil {
			l.fail("privateKeyPath", "%v", err)
		}
		s.privateKeyPEM, s.privateKey = pemBytes, key
	}
	switch {
	case s.WebhookSecretFile != "":
		b, err := os.ReadFile(l.path(s.WebhookSecretFile, "webhookSecretFile"))
		if err != nil {
			l.fail("webhookSecretFile", "cannot read the webhook secret: %v", unwrapPath(err))
			return
		}
		if b = bytes.TrimRight(b, " \t\r\n"); len(b) == 0 {
			l.fail("webhookSecretFile", "the file is empty: kmend refuses to accept unsigned webhooks")
			return
		}
		s.secret = b
	case s.WebhookSecret != "":
		s.secret = []byte(s.WebhookSecret)
	}
}

// path resolves a path from the file relative to the file's directory.
func (l *serverLoader) path(p, key string) string {
	if o := l.origin[key]; o.env == "" && l.dir != "" && !filepath.IsAbs(p) {
		return filepath.Join(l.dir, p)
	}
	return p
}

type problem struct{ key, msg string }

var slugRE = lazyre.New(`^[a-z0-9][a-z0-9-]{0,99}$`)

// staticProblems checks what can be checked without reading files.
func (s *Server) staticProblems() []problem {
	var ps []problem
	add := func(key, format string, args ...any) { ps = append(ps, problem{key, fmt.Sprintf(format, args...)}) }
	if s.AppID <= 0 {
		if s.AppID == 0 {
			add("appID", "missing: the GitHub App's ID is required")
		} else {
			add("appID", "must be a positive number, not %d", s.AppID)
		}
	}
	if s.AppSlug != "" && !slugRE.MatchString(s.AppSlug) {
		add("appSlug", "%q is not a GitHub App slug (lower-case letters, digits and dashes)", s.AppSlug)
	}
	if s.PrivateKeyPath == "" {
		add("privateKeyPath", "missing: the GitHub App's private key is required")
	}
	switch {
	case s.WebhookSecret != "" && s.WebhookSecretFile != "":
		add("webhookSecretFile", "set webhookSecret or webhookSecretFile, not both")
	case s.WebhookSecret == "" && s.WebhookSecretFile == "":
		add("webhookSecret", "missing: kmend refuses to accept unsigned webhooks (set webhookSecret or webhookSecretFile)")
	case s.WebhookSecretFile == "" && strings.TrimSpace(string(s.WebhookSecret)) == "":
		add("webhookSecret", "is only white space")
	}
	if err := checkGitHubURL(s.GitHubURL); err != nil {
		add("githubURL", "%q: %v", s.GitHubURL, err)
	}
	if s.ListenAddr != "" {
		if _, port, err := net.SplitHostPort(s.ListenAddr); err != nil {
			add("listenAddr", "%q is not host:port (\":8080\", \"127.0.0.1:8080\")", s.ListenAddr)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			add("listenAddr", "%q: bad port", s.ListenAddr)
		}
	}
	if s.QueueSize < 0 || s.QueueSize > MaxQueueSize {
		add("queueSize", "%d is outside 1-%d", s.QueueSize, MaxQueueSize)
	}
	if s.Workers < 0 || s.Workers > MaxWorkers {
		add("workers", "%d is outside 1-%d", s.Workers, MaxWorkers)
	}
	return ps
}

func checkGitHubURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return errors.New("must be an http or https URL")
	case u.Host == "":
		return errors.New("has no host")
	case u.User != nil:
		return errors.New("must not carry credentials")
	case u.RawQuery != "" || u.Fragment != "":
		return errors.New("must not have a query or fragment")
	}
	return nil
}

// readPrivateKey reads a PEM file holding an RSA private key (PKCS #1, as
// GitHub issues them, or PKCS #8). Its errors never quote the file.
func readPrivateKey(path string) ([]byte, *rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read the private key: %v", unwrapPath(err))
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, nil, fmt.Errorf("%s is not a PEM file", path)
	}
	var key *rsa.PrivateKey
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		var k any
		if k, err = x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
			var ok bool
			if key, ok = k.(*rsa.PrivateKey); !ok {
				return nil, nil, fmt.Errorf("%s holds a %T, not an RSA key (GitHub Apps use RSA)", path, k)
			}
		}
	default:
		return nil, nil, fmt.Errorf("%s holds a PEM block of type %q, not an RSA private key", path, block.Type)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: cannot parse the RSA private key", path)
	}
	return data, key, nil
}

// unwrapPath keeps an *os.PathError's path and cause, without the "open".
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// PrivateKey returns the App's private key, loaded by LoadServer.
func (s *Server) PrivateKey() *rsa.PrivateKey { return s.privateKey }

// PrivateKeyPEM returns the private key file's bytes (for ghinstallation).
func (s *Server) PrivateKeyPEM() []byte { return s.privateKeyPEM }

// Secret returns the webhook secret, from WebhookSecret or
// WebhookSecretFile, as loaded by LoadServer.
func (s *Server) Secret() []byte { return s.secret }

// Enterprise reports whether GitHubURL is a GitHub Enterprise Server.
func (s *Server) Enterprise() bool {
	u, err := url.Parse(s.GitHubURL)
	return s.GitHubURL != "" && err == nil && !strings.EqualFold(u.Host, "github.com")
}

// APIURL returns the REST API's base URL, with the trailing slash go-github
// needs: https://api.github.com/ for github.com, <GitHubURL>/api/v3/ for
// GitHub Enterprise Server.
func (s *Server) APIURL() string {
	if !s.Enterprise() {
		return "https://api.github.com/"
	}
	base := strings.TrimRight(s.GitHubURL, "/")
	if strings.HasSuffix(base, "/api/v3") {
		return base + "/"
	}
	return base + "/api/v3/"
}

// LogValue lists the settings without the secret.
func (s *Server) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int64("appID", s.AppID),
		slog.String("appSlug", s.AppSlug),
		slog.String("privateKeyPath", s.PrivateKeyPath),
		slog.Bool("webhookSecretSet", s.WebhookSecret != "" || s.WebhookSecretFile != ""),
		slog.String("webhookSecretFile", s.WebhookSecretFile),
		slog.String("githubURL", s.GitHubURL),
		slog.String("listenAddr", s.ListenAddr),
		slog.Int("queueSize", s.QueueSize),
		slog.Int("workers", s.Workers),
	)
}

// Write writes the configuration's keys (not what they lead to: the
// private key stays in its own file) to path atomically, with mode 0600:
// a temporary file in the same directory is written, synced and renamed.
// It refuses a configuration that LoadServer would reject for reasons
// visible without reading files.
func (s *Server) Write(path string) error {
	var errs []error
	for _, p := range s.staticProblems() {
		errs = append(errs, &Error{File: path, Key: p.key, Msg: p.msg})
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	body, err := yaml.Marshal(serverFile{
		Version:           Version,
		AppID:             s.AppID,
		AppSlug:           s.AppSlug,
		PrivateKeyPath:    s.PrivateKeyPath,
		WebhookSecret:     s.WebhookSecret,
		WebhookSecretFile: s.WebhookSecretFile,
		GitHubURL:         s.GitHubURL,
		ListenAddr:        s.ListenAddr,
		QueueSize:         s.QueueSize,
		Workers:           s.Workers,
	})
	if err != nil {
		return fmt.Errorf("encode server configuration: %w", err)
	}
	header := "# kmend server configuration (docs/config.md). It may hold the webhook secret: keep it private.\n"
	return writeFileAtomic(path, append([]byte(header), body...), 0o600)
}

// WriteSecretFile writes a file only its owner may read (mode 0600),
// atomically: a private key, a configuration holding a secret.
func WriteSecretFile(path string, data []byte) error {
	return writeFileAtomic(path, data, 0o600)
}

// writeFileAtomic replaces path with data: readers see the old file or the
// new one, never a part.
func writeFileAtomic(path string, data []byte, mode os.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync() // make the rename durable; not every file system supports it
		d.Close()
	}
	return nil
}
