package kubetest

import (
	"os"
	"sync"
	"testing"
)

// One server per test binary: starting kube-apiserver and etcd costs a few
// seconds, so the tests of a package share one (each in namespaces of its
// own) and TestMain stops it.
var shared struct {
	once sync.Once
	srv  *Server
	tmp  string
	err  error
}

// Shared returns the test binary's server, starting it on first use. Like
// Start, it skips t without the binaries unless Required. The package's
// TestMain must call Main so that the server is stopped.
func Shared(t testing.TB) *Server {
	t.Helper()
	dir := need(t)
	shared.once.Do(func() {
		shared.tmp, shared.err = os.MkdirTemp("", "kmend-kube-")
		if shared.err != nil {
			return
		}
		shared.srv, shared.err = Launch(dir, shared.tmp)
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.srv
}

// Main runs the tests of m and then stops the shared server, if one was
// started: call it from TestMain, as os.Exit(kubetest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.Stop()
	}
	if shared.tmp != "" && code == 0 {
		os.RemoveAll(shared.tmp)
	}
	return code
}
