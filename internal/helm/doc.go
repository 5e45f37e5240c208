// Package helm fixes findings on objects rendered by Helm charts where a
// person would: in the chart's values.
//
// Charts lists the charts of a repository. Render renders one with the
// Helm SDK's template engine, offline (subcharts must be vendored in
// charts/, schemas are not fetched, lookup finds nothing), with values in
// Helm's precedence order: the chart's values.yaml, then each
// ValuesSource — a values file, a Flux HelmRelease's spec.values, an Argo
// CD Application's helm.valuesObject or helm.values string, literal
// parameters. Each rendered Object keeps the template it came from.
//
// Plan renders, checks every object (internal/check) and, for each
// failing control, computes the catalog's fix (internal/patch), then looks
// for the values key that controls the failing field: keys of the chart's
// own values whose name matches a mapping of the field's path
// (securityContext, containerSecurityContext, podSecurityContext,
// resources, metrics.containerSecurityContext...) or the field itself
// (image.pullPolicy for imagePullPolicy), keys holding the failing value,
// then the common conventions. Each candidate is set in a copy of the
// values and the chart rendered again; the first one that makes the
// control pass on that object, makes nothing else fail, and changes
// nothing in the whole render but the fields the control's fixes target
// is kept. When none does, the finding becomes a Manual fix carrying the
// strategic-merge and RFC 6902 patches and a kustomize patches entry, to
// apply as a post-renderer or overlay.
//
// The chosen keys are written into the values file (or the HelmRelease's
// or Application's inline values) through internal/yamledit, so only the
// edited nodes change; missing mappings are created. The edited bytes are
// read back, rendered and checked again before Plan returns them; a key
// that does not make the control pass is never written. Result.Write
// writes the files atomically, only when they change.
//
// HelmRelease and Application read a release of the repository; a chart
// of an HTTP(S) Helm repository or of an OCI registry (Release.Remote) is
// fetched by PlanRelease through a ChartCache and planned the same way,
// the keys going into the release's values. From a Helm repository:
// index.yaml, version resolved as Helm does, archive digest checked. From
// an OCI registry (a Flux HelmRepository of type oci, a chartRef to an
// OCIRepository, an Argo CD oci:// or scheme-less repoURL): Helm's own
// registry client, a semver constraint resolved against the tags, digests
// checked. Either is cached on disk; without a ChartCache (kmend fix
// --offline) the release is ErrExternalChart and nothing is requested.
//
// Every path is relative to a repository directory and is read through
// os.Root: chart and values paths that leave the repository are refused
// with ErrEscapes. See docs/helm.md for the key search and its limits.
package helm
