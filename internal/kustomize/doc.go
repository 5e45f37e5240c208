// Package kustomize renders kustomizations with sigs.k8s.io/kustomize/api and
// records, for every rendered object, the file it came from and the
// transformers that changed it. Origin tracking is switched on for every
// build — without touching the repository — by a read-through filesystem
// that adds buildMetadata [originAnnotations, transformerAnnotations] to the
// root kustomization as kustomize reads it. Paths are confined to the
// repository: a kustomization cannot load files outside it.
package kustomize
