package yamledit

import (
	"os"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// benchFile parses testdata/bench.yaml (a ~300-line multi-document
// manifest) and records a hardening edit of every Deployment.
func benchFile(tb testing.TB) *File {
	data, err := os.ReadFile("testdata/bench.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	f, err := Parse("bench.yaml", data, Options{})
	if err != nil {
		tb.Fatal(err)
	}
	patch := `spec:
  template:
    spec:
      containers:
      - name: app
        image: registry.example.com/app:2.0.0
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop: [ALL]
`
	for i, d := range f.Docs {
		if d.Node.GetKind() != "Deployment" {
			continue
		}
		n, err := mergeAt(d.Node.Copy(), nil, patch)
		if err != nil {
			tb.Fatal(err)
		}
		if err := n.PipeE(yaml.Lookup("spec"), yaml.SetField("replicas", yaml.NewScalarRNode("5"))); err != nil {
			tb.Fatal(err)
		}
		if err := f.SetDoc(i, n); err != nil {
			tb.Fatal(err)
		}
	}
	return f
}

func TestBenchFile(t *testing.T) {
	f := benchFile(t)
	out, err := f.Render()
	if err != nil {
		t.Fatal(err)
	}
	if len(out) <= len(f.Data) {
		t.Fatalf("edits added nothing: %d -> %d bytes", len(f.Data), len(out))
	}
}

func BenchmarkRender(b *testing.B) {
	f := benchFile(b)
	b.SetBytes(int64(len(f.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Render(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("bench.yaml", data, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
