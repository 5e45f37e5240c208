package cluster_test

import (
	"os"
	"testing"

	"github.com/kmend/kmend/internal/kubetest"
)

// TestMain shares one API server among the package's tests (each works in
// namespaces of its own); TestReaderRBAC starts its own, as it reads the
// whole cluster.
func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }
