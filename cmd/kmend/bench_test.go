package main

import (
	"io"
	"strings"
	"testing"
)

// BenchmarkScanDemo is one `kmend scan -o json` of the demo repository
// after the process has started: what a small scan costs beyond start-up.
func BenchmarkScanDemo(b *testing.B) {
	for b.Loop() {
		if code := run([]string{"scan", "-o", "json", "../../fixtures/demo-repo"}, strings.NewReader(""), io.Discard, io.Discard); code != exitFindings {
			b.Fatalf("exit %d", code)
		}
	}
}
