package finding

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchFindings returns n findings shaped like a scan's: many per file and
// object, a few containers each, in random order.
func benchFindings(n int) []Finding {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]Finding, n)
	for i := range out {
		file := fmt.Sprintf("team-%03d/app-%05d.yaml", i/400, i/12)
		out[i] = Finding{
			ControlID:     fmt.Sprintf("KM-%03d", r.IntN(40)),
			Title:         "Containers must not run privileged",
			Severity:      Severity(1 + r.IntN(5)),
			Object:        ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: fmt.Sprintf("app-%05d", i/12)},
			Container:     []string{"app", "sidecar", "init"}[r.IntN(3)],
			ContainerType: "containers",
			Path:          "spec.template.spec.containers[0].securityContext.privileged",
			Reason:        ReasonUnset,
			Message:       "allowPrivilegeEscalation is not set, and it defaults to true.",
			Fixability:    FixAuto,
			Position:      Position{File: file, Line: 1 + r.IntN(60)},
			Origin:        "kmend",
		}
	}
	r.Shuffle(n, func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func BenchmarkSort(b *testing.B) {
	src := benchFindings(20000)
	fs := make([]Finding, len(src))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		copy(fs, src)
		Sort(fs)
	}
}

func BenchmarkFingerprint(b *testing.B) {
	fs := benchFindings(1000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		_ = fs[i%len(fs)].Fingerprint()
	}
}
