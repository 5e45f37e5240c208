// Package manifest reads Kubernetes objects from YAML files, directories and
// standard input: it keeps each object's file, document and line, skips
// non-Kubernetes YAML quietly, and reports broken files with their file and
// line while every other file is still read.
package manifest
