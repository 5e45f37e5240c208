package kustomize

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildWithRecordsReads: every file the build read is recorded with
// the hash of what it read, every kustomization file name it looked for
// and did not find as absent.
func TestBuildWithRecordsReads(t *testing.T) {
	r, err := BuildWith(repo, "overlays/prod", BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"overlays/prod/kustomization.yaml", "overlays/prod/replicas.yaml", "overlays/prod/ingress.yaml",
		"base/kustomization.yaml", "base/deployment.yaml", "base/service.yaml"} {
		b, err := os.ReadFile(filepath.Join(repo, p))
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Reads[p]; got != Hash(b) {
			t.Errorf("%s: recorded %q, want the hash of its content", p, got)
		}
	}
	if got, ok := r.Reads["overlays/staging/kustomization.yaml"]; ok {
		t.Errorf("a file of another overlay was recorded: %q", got)
	}
	absent := 0
	for p, h := range r.Reads {
		if h == ReadAbsent && strings.HasPrefix(p, "base/") {
			absent++
		}
	}
	if absent == 0 {
		t.Errorf("no kustomization file name recorded as absent in base/: %v", r.Reads)
	}
	objs, err := Build(repo, "overlays/prod")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != len(r.Objects) {
		t.Fatalf("Build gives %d objects, BuildWith %d", len(objs), len(r.Objects))
	}
}

// TestBuildWithFiles renders changed and added files without writing
// them.
func TestBuildWithFiles(t *testing.T) {
	kust, err := os.ReadFile(filepath.Join(repo, "overlays/staging/kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"overlays/staging/kustomization.yaml": append(kust, []byte("patches:\n- path: new-patch.yaml\n")...),
		"overlays/staging/new-patch.yaml":     []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 7\n"),
	}
	r, err := BuildWith(repo, "overlays/staging", BuildOptions{Files: files})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, o := range r.Objects {
		if o.Ref.Kind == "Deployment" {
			s, _ := o.Node.String()
			found = strings.Contains(s, "replicas: 7")
		}
	}
	if !found {
		t.Fatal("the added patch was not applied")
	}
	if r.Reads["overlays/staging/new-patch.yaml"] != Hash(files["overlays/staging/new-patch.yaml"]) {
		t.Errorf("the added file was not recorded: %v", r.Reads)
	}
	if _, err := os.Stat(filepath.Join(repo, "overlays/staging/new-patch.yaml")); err == nil {
		t.Fatal("the added file was written")
	}
}

// TestBuildWithEscapes: a build that reaches out of the repository fails
// with an error that wraps ErrEscapes, and still says what it read.
func TestBuildWithEscapes(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "outside.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	app := filepath.Join(dir, "repo", "app")
	if err := os.MkdirAll(app, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(app, "kustomization.yaml"), []byte("resources: [../../outside.yaml]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := BuildWith(filepath.Join(dir, "repo"), "app", BuildOptions{})
	if !errors.Is(err, ErrEscapes) {
		t.Fatalf("err = %v, want ErrEscapes", err)
	}
	if r == nil || r.Reads["app/kustomization.yaml"] == "" {
		t.Fatalf("reads of a failed build: %+v", r)
	}
	// Files cannot place a file outside the repository either.
	_, err = BuildWith(filepath.Join(dir, "repo"), "app", BuildOptions{Files: map[string][]byte{
		"../outside.yaml": []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: injected}\n"),
	}})
	if !errors.Is(err, ErrEscapes) {
		t.Fatalf("a file given outside the repository: err = %v, want ErrEscapes", err)
	}
	// Inside, an added resource is read from Files.
	r, err = BuildWith(filepath.Join(dir, "repo"), "app", BuildOptions{Files: map[string][]byte{
		"app/kustomization.yaml": []byte("resources: [x.yaml]\n"),
		"app/x.yaml":             []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"),
	}})
	if err != nil || len(r.Objects) != 1 || r.Objects[0].Ref.Name != "x" {
		t.Fatalf("an added resource: %v, %+v", err, r)
	}
}
