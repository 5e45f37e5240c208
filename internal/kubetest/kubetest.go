package kubetest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// Version is the Kubernetes version hack/kube/build.sh builds by default.
const Version = "v1.37.2"

// AdminToken is the bearer token of the test cluster's administrator.
const AdminToken = "kmend-test-admin-token"

// Assets returns the directory holding etcd and kube-apiserver, and
// whether both are there.
func Assets() (string, bool) {
	dir := os.Getenv("KMEND_KUBE_ASSETS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", ".cache", "kube", Version)
	}
	for _, b := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return dir, false
		}
	}
	return dir, true
}

// Server is a running kube-apiserver with its etcd.
type Server struct {
	Config *rest.Config
	// CertDir holds the server's self-signed certificate (apiserver.crt),
	// which also serves as its CA.
	CertDir string
	procs   []*exec.Cmd
}

// Start starts etcd and kube-apiserver for t and stops them when t ends.
// Without the binaries, t is skipped with how to build them, unless the
// run asks for them (KMEND_KUBE_ASSETS or CI is set, as in make test and
// CI): then t fails.
func Start(t testing.TB) *Server {
	t.Helper()
	dir := need(t)
	s, err := Launch(dir, t.TempDir())
	if s != nil {
		t.Cleanup(s.Stop)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// need returns the assets directory, or skips or fails t without it.
func need(t testing.TB) string {
	t.Helper()
	dir, ok := Assets()
	if !ok {
		msg := fmt.Sprintf("kube-apiserver and etcd not found in %s: run `make kube` (make test builds them)", dir)
		if Required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

// Required reports whether the run needs the real API server: make test
// sets KMEND_KUBE_ASSETS and CI sets CI, and a test that cannot start the
// server must then fail, not skip.
func Required() bool { return os.Getenv("KMEND_KUBE_ASSETS") != "" || os.Getenv("CI") != "" }

// Launch starts etcd and kube-apiserver from the binaries in dir, keeping
// their data, certificates and logs in tmp. The caller stops them with
// Stop, also when Launch fails after starting a process.
func Launch(dir, tmp string) (*Server, error) {
	s := &Server{CertDir: filepath.Join(tmp, "certs")}
	etcdClient, err := freePort()
	if err != nil {
		return nil, err
	}
	etcdPeer, err := freePort()
	if err != nil {
		return nil, err
	}
	if err := s.start(filepath.Join(dir, "etcd"), filepath.Join(tmp, "etcd.log"),
		"--data-dir", filepath.Join(tmp, "etcd"),
		"--listen-client-urls", url(etcdClient), "--advertise-client-urls", url(etcdClient),
		"--listen-peer-urls", url(etcdPeer), "--initial-advertise-peer-urls", url(etcdPeer),
		"--initial-cluster", "default="+url(etcdPeer), "--unsafe-no-fsync", "--log-level", "error"); err != nil {
		return s, err
	}

	key := filepath.Join(tmp, "sa.key")
	if err := writeKey(key); err != nil {
		return s, err
	}
	tokens := filepath.Join(tmp, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(AdminToken+",admin,admin,system:masters\nkmend-test-reader-token,reader,reader\n"), 0o600); err != nil {
		return s, err
	}
	port, err := freePort()
	if err != nil {
		return s, err
	}
	if err := s.start(filepath.Join(dir, "kube-apiserver"), filepath.Join(tmp, "apiserver.log"),
		"--etcd-servers", url(etcdClient),
		"--bind-address", "127.0.0.1", "--secure-port", strconv.Itoa(port),
		"--cert-dir", s.CertDir,
		"--service-account-key-file", key, "--service-account-signing-key-file", key,
		"--service-account-issuer", "https://kmend.test",
		"--token-auth-file", tokens, "--authorization-mode", "RBAC",
		"--service-cluster-ip-range", "10.0.0.0/24",
		"--disable-admission-plugins", "ServiceAccount",
		"--endpoint-reconciler-type", "none"); err != nil {
		return s, err
	}

	s.Config = &rest.Config{
		Host:            "https://127.0.0.1:" + strconv.Itoa(port),
		BearerToken:     AdminToken,
		TLSClientConfig: rest.TLSClientConfig{Insecure: true},
	}
	if err := waitReady(s.Config.Host, 60*time.Second); err != nil {
		return s, fmt.Errorf("kube-apiserver did not become ready: %w (logs in %s)", err, tmp)
	}
	return s, nil
}

func (s *Server) start(bin, logFile string, args ...string) error {
	log, err := os.Create(logFile)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start %s: %w", bin, err)
	}
	s.procs = append(s.procs, cmd)
	return nil
}

// Stop stops kube-apiserver and etcd.
func (s *Server) Stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		_ = p.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = p.Process.Kill()
			<-done
		}
	}
	s.procs = nil
}

func url(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func writeKey(path string) error {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	return os.WriteFile(path, b, 0o600)
}

// waitReady polls /readyz until it answers ok.
func waitReady(host string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 2 * time.Second}
	var last error
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, host+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+AdminToken)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("readyz: %s", resp.Status)
		}
		last = err
		time.Sleep(200 * time.Millisecond)
	}
	return errors.Join(ctx.Err(), last)
}

// Kubeconfig writes a kubeconfig for the server (context "kmend-test") and
// returns its path.
func (s *Server) Kubeconfig(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: kmend-test
  cluster: {server: %q, insecure-skip-tls-verify: true}
users:
- name: admin
  user: {token: %q}
contexts:
- name: kmend-test
  context: {cluster: kmend-test, user: admin}
current-context: kmend-test
`, s.Config.Host, s.Config.BearerToken)
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
