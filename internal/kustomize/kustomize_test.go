package kustomize

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const repo = "../../fixtures/sourcemap/kustomize"

func TestRoots(t *testing.T) {
	got, err := Roots(repo)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "base,overlays/prod,overlays/staging" {
		t.Fatalf("roots = %v", got)
	}
}

// TestBuildTracksOrigins renders overlays with kustomize and checks every
// object names the file it came from, relative to the repository, with
// names and namespaces as the overlay makes them.
func TestBuildTracksOrigins(t *testing.T) {
	objs, err := Build(repo, "overlays/staging")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range objs {
		got[o.Ref.String()] = o.Origin + "|" + o.GeneratedBy
		if _, ok := o.Node.GetAnnotations()[OriginAnnotation]; ok {
			t.Errorf("%s still carries the origin annotation", o.Ref)
		}
		if o.Root != "overlays/staging" {
			t.Errorf("%s: root %q", o.Ref, o.Root)
		}
	}
	for ref, want := range map[string]string{
		"Deployment/staging/staging-web": "base/deployment.yaml|",
		"Service/staging/staging-web":    "base/service.yaml|",
		"Ingress/staging/staging-web":    "overlays/staging/ingress.yaml|",
	} {
		if got[ref] != want {
			t.Errorf("%s: origin %q, want %q (all: %v)", ref, got[ref], want, got)
		}
	}
	prod, err := Build(repo, "overlays/prod")
	if err != nil {
		t.Fatal(err)
	}
	var patched, generated bool
	for _, o := range prod {
		if o.Ref.Kind == "Deployment" {
			patched = strings.Contains(strings.Join(o.Transformers, ","), "overlays/prod/kustomization.yaml: PatchTransformer")
		}
		if o.Ref.Kind == "ConfigMap" {
			generated = o.GeneratedBy == "overlays/prod/kustomization.yaml" && o.Origin == ""
		}
	}
	if !patched || !generated {
		t.Fatalf("prod: patch recorded %v, generator recorded %v: %+v", patched, generated, prod)
	}
}

func TestBuildStaysInTheRepository(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(dir, "secret.yaml")
	if err := os.WriteFile(outside, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := filepath.Join(dir, "repo", "app")
	if err := os.MkdirAll(r, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r, "kustomization.yaml"), []byte("resources: [../../secret.yaml]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(filepath.Join(dir, "repo"), "app"); err == nil || !strings.Contains(err.Error(), "leaves the repository") {
		t.Fatalf("a resource outside the repository was read: %v", err)
	}
	if _, err := Build(filepath.Join(dir, "repo"), "../.."); !errors.Is(err, ErrEscapes) {
		t.Fatalf("root outside the repository: %v", err)
	}
	// The repository on disk is not changed by tracking.
	b, _ := os.ReadFile(filepath.Join(r, "kustomization.yaml"))
	if strings.Contains(string(b), "buildMetadata") {
		t.Fatal("the kustomization was modified on disk")
	}
}
