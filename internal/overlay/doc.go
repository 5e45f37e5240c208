// Package overlay fixes repositories of kustomizations: it checks what
// kustomize renders and writes each fix at the narrowest place in the
// source, so that the rendering of every kustomization changes only where
// the fix means to.
//
// Plan finds every kustomization below the repository
// (kustomize.Roots), renders each with origin tracking
// (kustomize.BuildWith), checks the rendered workloads with the catalog,
// and for each failing (object, control) finds where the failing value
// comes from:
//
//   - the object's defining file: kustomize's origin annotation names it;
//     the document is the one whose name and namespace, with the
//     namePrefix, nameSuffix and namespace of every kustomization on the
//     way applied, are the rendered ones;
//   - or a patch: the patches of the kustomizations on that way (and of
//     the components they use) are replayed in kustomize's order
//     (patchesStrategicMerge, patches, then patchesJson6902 after the
//     name transformers; inner kustomizations first), matched to the
//     object as kustomize does (a target selector, or the patch's own
//     kind, name and namespace, original or current), and the last one
//     that sets the value, or replaces or deletes a parent of it, wins.
//     List items are named by their merge key (containers by name), so an
//     RFC 6902 path such as /spec/template/spec/containers/0/... is
//     compared by the container it reaches in the rendering.
//
// A value taken from the defining file must be the rendered one;
// otherwise a transformer or a replacement changed it and the fix is
// dropped.
//
// # Placement
//
// Each fix goes to the narrowest place that gives it:
//
//  1. PlacementPatch. The value comes from a patch: the patch is edited.
//     A strategic-merge patch (a file, an inline patches: entry, a
//     patchesStrategicMerge entry) gets the fix merged in with kyaml's
//     merge2; an RFC 6902 operation (add or replace) gets the fix's
//     values set inside its value. Inline patches are edited as YAML of
//     their own, then put back into the kustomization's block scalar.
//     Every kustomization that uses the patch gets the change, as it gets
//     the patch.
//  2. PlacementResource. The value comes from (or is missing in) the
//     defining file, and every kustomization that renders that document
//     fails the same way (same control, same container or field),
//     whatever sets the value there: the file, usually a base, is edited.
//  3. PlacementNewPatch. Otherwise each top-level kustomization that needs
//     the fix gets kmend-<kind>-<name>.yaml, a strategic-merge patch
//     naming the object as its defining file does (kustomize matches
//     patches by the original name and namespace, before prefixes,
//     suffixes and namespace changes), listed in its kustomization as
//     "- path: kmend-....yaml" at the end of patches:. Later fixes of the
//     same object in that overlay are merged into the same file, and so
//     are fixes of a later run.
//
// A top-level kustomization is one that no other kustomization of the
// repository builds on: what gets deployed. A base that is also rendered
// on its own is checked like any kustomization, and counts when deciding
// whether every kustomization rendering a file needs a fix, but it is not
// fixed separately: when its overlays differ, its own findings are left
// (Result.Left, with why) and each overlay that needs the fix gets its
// own patch. Components (kind: Component) are not rendered on their own;
// their patches are found and edited like any other.
//
// kustomize's strategic merge moves the list items a patch names to the
// front of their list. A patch kmend writes or extends therefore names,
// in order, every item of the list from the first up to the last one it
// changes (the others only by their key), so container and init
// container order never changes.
//
// Options.Paths limits the fixes to some kustomizations (kmend fix run on
// a few directories): the others are still rendered and verified, and a
// file they also read (a shared base or patch) is edited only when all of
// them are selected; otherwise each selected overlay gets its own patch.
//
// A risky value with a comment next to it in the file that sets it is
// treated as deliberate, as for plain manifests: its auto fix needs
// review.
//
// # The invariant
//
// No fix is accepted unless, with the fix laid over the repository in
// memory, every kustomization that read a changed file still renders, to
// the same objects, identical except the objects the fix is for, which
// are either unchanged (a later patch still sets the value there) or
// exactly the fix's strategic-merge patch applied to them (with
// apimachinery, as kubectl would); the findings it repairs are gone there,
// no control fails that did not, and at least one rendering changed.
// Edits are computed one after another, split into independent groups
// (no shared file, no shared kustomization) and each group is verified in
// one rendering of the kustomizations it affects; a group that fails is
// verified edit by edit so that the bad edit is dropped (Result.Dropped,
// with the reason) and the others kept. Nothing is written by Plan:
// Result.Write writes the changed files atomically, only when they
// change, refusing any path outside the repository.
//
// # Caching
//
// A Cache keeps renderings keyed by kustomization and by the content hash
// of every file the build read or looked for. Verifying a fix renders only
// the kustomizations that read a file it changes; a second plan of an
// unchanged repository, or of the repository as the first plan wrote it,
// renders nothing.
//
// # Safety
//
// Paths written in kustomizations are joined to their directory and
// refused when they leave the repository (absolute, "..", or through a
// symbolic link): the kustomization is reported as not rendering
// (Result.Errors, a *RootError naming its file, wrapping ErrEscapes) and
// nothing outside the repository is read or written. A kustomization that
// does not render for another reason is reported the same way, and the
// others are still fixed.
package overlay
