// Package version holds kmend's version, set at build time with -ldflags.
package version

// Version is kmend's version; "dev" when built without the Makefile.
var Version = "dev"
