package remediate_test

import (
	"testing"

	"github.com/kmend/kmend/internal/manifest"
	"github.com/kmend/kmend/internal/yamledit"
)

func manifestFrom(t *testing.T, path string, data []byte) *manifest.Set {
	t.Helper()
	f, err := yamledit.Parse(path, data, yamledit.Options{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return manifest.FromFiles(f)
}
