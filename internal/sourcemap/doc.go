// Package sourcemap finds, for a live Kubernetes object (as read from a
// cluster), the Git repository, revision, file, YAML document and line that
// define it, says how that was found, and how sure it is.
//
// A Mapper is built once from a Context: the Argo CD Applications and Flux
// Kustomizations, GitRepositories and HelmReleases known besides the object,
// and the local checkouts of the repositories they name. Locate then tries,
// in order, and the first route that applies wins:
//
//  1. kmend's own annotations (source.kmend.dev/repo, /ref, /file,
//     /document): an exact pointer, verified against the checkout when the
//     repository is checked out; confidence high.
//  2. kustomize's config.kubernetes.io/origin annotation (written by
//     buildMetadata: [originAnnotations]): a path relative to the
//     kustomization root the object was built from; the root is taken from
//     the Argo CD Application or Flux Kustomization that deployed the
//     object (confidence high), else every kustomization of the default
//     checkout is tried and the file must be unique (confidence medium).
//  3. Argo CD: the argocd.argoproj.io/tracking-id annotation (which must
//     name this very object), else the app.kubernetes.io/instance label
//     naming a known Application (a hint only: ignored when Flux labels
//     are present); the Application's source(s) give the repository,
//     revision and path (a kustomization is followed through its
//     resources; a plain directory is read non-recursively unless
//     directory.recurse, as Argo CD does), and the object is searched for
//     there; confidence medium (low through the label).
//  4. Flux: the helm.toolkit.fluxcd.io/name|namespace labels (the object
//     was rendered by a HelmRelease, whose file is located in turn, with
//     the overlay patches that set its spec.values) or the
//     kustomize.toolkit.fluxcd.io/name|namespace labels (Kustomization →
//     GitRepository → path, searched); confidence medium.
//  5. A search of the default checkout; confidence low.
//
// Several equally good candidates are never decided at random: the Result
// then carries them all and ErrAmbiguous. Tracking metadata that names
// another object gives ErrUntrusted.
//
// Every path read from an annotation or a custom resource is joined to its
// checkout safely: absolute paths, ".." leaving the checkout and symbolic
// links leading out of it are refused with ErrEscapes, and all file access
// goes through os.Root, so nothing outside a checkout is ever read.
//
// Repository URLs compare normalised (see NormalizeRepoURL):
// git@github.com:o/r.git, ssh://git@github.com/o/r, https://github.com/o/r
// and https://user:token@github.com/o/r.git are one repository.
//
// A Mapper is safe for concurrent use. Each checkout is indexed (every YAML
// document's kind, namespace and name with its file, document and line) the
// first time it is needed, once.
package sourcemap

import (
	"errors"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/finding"
)

// Via says which route found a Location.
type Via string

// Routes, in the order Locate tries them.
const (
	ViaAnnotation Via = "annotation" // source.kmend.dev/* annotations
	ViaOrigin     Via = "origin"     // config.kubernetes.io/origin
	ViaArgoCD     Via = "argocd"     // tracking-id or instance label → Application
	ViaFlux       Via = "flux"       // Flux labels → Kustomization / HelmRelease
	ViaSearch     Via = "search"     // search of the default checkout
)

// SourceKind says what kind of source defines the object, and so how a fix
// must be written.
type SourceKind string

// Source kinds.
const (
	// KindPlain: a plain manifest file; edit the object in place.
	KindPlain SourceKind = "plain"
	// KindKustomize: a file that is a kustomize resource (a base or an
	// overlay's own resource), or, for generated objects, the
	// kustomization that generates it.
	KindKustomize SourceKind = "kustomize"
	// KindHelm: rendered by Helm from a chart; File is empty, the fix goes
	// into ValuesFiles (or the chart).
	KindHelm SourceKind = "helm"
	// KindArgoCDApplication: rendered by Helm from an Argo CD Application
	// that carries inline values (helm.values, helm.valuesObject or
	// helm.parameters); File is the file defining the Application, the fix
	// goes into those values.
	KindArgoCDApplication SourceKind = "argocd-application"
	// KindFluxKustomization: a file in the path of a Flux Kustomization.
	KindFluxKustomization SourceKind = "flux-kustomization"
	// KindFluxHelmRelease: rendered by a Flux HelmRelease; File is the file
	// defining the HelmRelease, the fix goes into its spec.values.
	KindFluxHelmRelease SourceKind = "flux-helmrelease"
)

// Confidence says how sure a Location is.
type Confidence string

// Confidences.
const (
	// ConfidenceHigh: an exact pointer to the file (an annotation).
	ConfidenceHigh Confidence = "high"
	// ConfidenceMedium: the deploying app's source path is known exactly;
	// the file in it was found by search.
	ConfidenceMedium Confidence = "medium"
	// ConfidenceLow: found by search only, or through a weak hint (the
	// app.kubernetes.io/instance label).
	ConfidenceLow Confidence = "low"
)

// Location is where an object is defined.
type Location struct {
	// Repo is the repository URL, normalised (https, no .git suffix, no
	// credentials); "" when the object was found in the default checkout
	// and no URL is known for it. Ref is the revision (Argo CD
	// targetRevision, the Flux GitRepository ref, an annotation's ref), ""
	// when unknown. Mapper.Checkout gives the local directory of a Repo;
	// when Repo is not checked out nothing was verified (see Detail).
	Repo string `json:"repo,omitempty"`
	Ref  string `json:"ref,omitempty"`
	// Path is the app's source directory in the repository (Argo CD
	// source.path, Flux spec.path, the kustomization root of an origin
	// annotation when known); for a Flux HelmRelease with a chart in Git,
	// the chart's path.
	Path string `json:"path,omitempty"`
	// File is relative to the repository root, with forward slashes; ""
	// when no file defines the object (a Helm chart, a repository that is
	// not checked out).
	File string `json:"file,omitempty"`
	// Document is the 0-based index of the YAML document in File; Line
	// the 1-based line where the object starts (0 when unknown).
	Document int `json:"document"`
	Line     int `json:"line,omitempty"`

	Kind       SourceKind `json:"kind"`
	Via        Via        `json:"via"`
	Confidence Confidence `json:"confidence"`
	// Detail says how it was found, in one line a person can read.
	Detail string `json:"detail"`
	// ValuesFiles are, for Helm sources, the values files in the order
	// Helm merges them (a chart in a checkout: its own values.yaml first):
	// paths relative to Repo's root, or "<repo>//<path>[?ref=<rev>]" for a
	// file in another repository (Argo CD $ref sources, a Flux chart in
	// another GitRepository).
	ValuesFiles []string `json:"valuesFiles,omitempty"`
	// Template is, for a Helm chart in a checkout, the chart's template
	// that renders the object (found by its kind; when several templates
	// render it, by the file name or the object's name written out), named
	// like ValuesFiles; "" when the chart is not checked out or no single
	// template does.
	Template string `json:"template,omitempty"`
	// ValuesPatches are, for a Flux HelmRelease that a kustomization
	// renders (KindFluxHelmRelease), the files of that kustomization and
	// of those it includes whose patches set the HelmRelease's spec.values,
	// in the order kustomize applies them: a value one environment sets is
	// edited there, File holds the values every environment shares.
	ValuesPatches []string `json:"valuesPatches,omitempty"`
}

// Result is the answer of Locate for one object.
type Result struct {
	Object finding.ObjectRef
	// Location is nil when the source was not found or is ambiguous.
	Location *Location
	// Candidates holds, when ambiguous, every equally good candidate,
	// sorted by repository, file, document and line.
	Candidates []Location
	// Err says why Location is nil: it wraps ErrNotFound, ErrAmbiguous,
	// ErrUntrusted or ErrEscapes, with detail.
	Err error
}

// Errors wrapped by Result.Err.
var (
	// ErrNotFound: no source was found (or a named Application,
	// Kustomization, GitRepository or HelmRelease is not in the Context).
	ErrNotFound = errors.New("source not found")
	// ErrAmbiguous: several equally good candidates; see Candidates.
	ErrAmbiguous = errors.New("source is ambiguous")
	// ErrUntrusted: source metadata on the object does not match it (a
	// tracking-id naming another object, an annotation pointing at a file
	// or document that does not hold the object, malformed metadata).
	ErrUntrusted = errors.New("source metadata not trusted")
	// ErrEscapes: a path from an annotation or a custom resource leaves the
	// checkout (absolute, "..", or through a symbolic link).
	ErrEscapes = errors.New("path escapes the checkout")
)

// Context is what is known besides the object itself. NewMapper reads the
// nodes once; Applications and HelmReleases are kept, to be located
// themselves when the fix goes into their values. The Mapper never
// modifies them.
type Context struct {
	// Applications are Argo CD argoproj.io Application objects, the
	// app-of-apps roots included.
	Applications []*yaml.RNode
	// Kustomizations (kustomize.toolkit.fluxcd.io), GitRepositories
	// (source.toolkit.fluxcd.io) and HelmReleases (helm.toolkit.fluxcd.io)
	// are Flux objects.
	Kustomizations  []*yaml.RNode
	GitRepositories []*yaml.RNode
	HelmReleases    []*yaml.RNode
	// Repos maps a repository URL (any spelling; normalised by NewMapper)
	// to the directory of its local checkout. The "" key is the default
	// checkout, searched when nothing else applies; when there is no ""
	// key and exactly one repository, that one is the default.
	Repos map[string]string
	// ArgoCDNamespace is Argo CD's control-plane namespace (often
	// "argocd"), used to pick an Application named in a tracking-id
	// without a namespace prefix when several share the name. Optional.
	ArgoCDNamespace string
}
