package main

import (
	"testing"

	"github.com/kmend/kmend/internal/lazyre"
)

// TestLazyRegexps: every regular expression the binary compiles on first
// use (internal/lazyre, in any package it links) is a valid one, so none
// can panic in a code path the other tests miss.
func TestLazyRegexps(t *testing.T) {
	if err := lazyre.Check(); err != nil {
		t.Fatal(err)
	}
}
