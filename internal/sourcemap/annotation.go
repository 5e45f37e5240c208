package sourcemap

import (
	"fmt"
	"strconv"
	"strings"
)

// byAnnotation follows kmend's own source.kmend.dev annotations.
func (m *Mapper) byAnnotation(o *object, _ int) (outcome, bool) {
	file := o.annotation(AnnotationFile)
	if file == "" {
		return outcome{}, false
	}
	repo := NormalizeRepoURL(o.annotation(AnnotationRepo))
	ref := o.annotation(AnnotationRef)
	doc := -1
	if s := o.annotation(AnnotationDocument); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return fail(fmt.Errorf("%w: %s=%q is not a document index", ErrUntrusted, AnnotationDocument, s)), true
		}
		doc = n
	}
	rel, err := joinRel("", file)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", AnnotationFile, err)), true
	}
	if rel == "" {
		return fail(fmt.Errorf("%w: %s=%q names no file", ErrUntrusted, AnnotationFile, file)), true
	}
	var d strings.Builder
	fmt.Fprintf(&d, "annotation %s=%s", AnnotationFile, file)
	if repo != "" {
		fmt.Fprintf(&d, " in %s", repo)
	}
	if ref != "" {
		fmt.Fprintf(&d, " at %s", ref)
	}
	if doc >= 0 {
		fmt.Fprintf(&d, ", document %d", doc)
	}
	c := m.checkout(repo)
	if c == nil {
		where := "repository " + repo + " is not checked out"
		if repo == "" {
			where = "there is no default checkout"
		}
		return found(Location{
			Repo: repo, Ref: ref, File: rel, Document: max(doc, 0),
			Kind: KindPlain, Via: ViaAnnotation, Confidence: ConfidenceHigh,
			Detail: d.String() + "; " + where + ": not verified",
		}), true
	}
	real, err := c.locateFile(rel)
	if err != nil {
		if isEscape(err) {
			return fail(fmt.Errorf("%s: %w", AnnotationFile, err)), true
		}
		return fail(fmt.Errorf("%w: %s=%s is not a file of the checkout: %v", ErrUntrusted, AnnotationFile, file, err)), true
	}
	es, err := c.fileEntries(real)
	if err != nil {
		return fail(fmt.Errorf("%w: %s=%s cannot be read: %v", ErrUntrusted, AnnotationFile, file, err)), true
	}
	var hits []entry
	for _, e := range es {
		if e.kind == o.ref.Kind && e.name == o.ref.Name && (doc < 0 || e.doc == doc) {
			hits = append(hits, e)
		}
	}
	if len(hits) > 1 { // the same kind and name in several namespaces
		hits = byNamespace(hits, o.ref.Namespace)
	}
	if len(hits) == 0 {
		where := real
		if doc >= 0 {
			where = fmt.Sprintf("document %d of %s", doc, real)
		}
		return fail(fmt.Errorf("%w: %s holds no %s %s", ErrUntrusted, where, o.ref.Kind, o.ref.Name)), true
	}
	if repo == "" {
		repo = c.url
	}
	ix, _ := c.index()
	if real != rel {
		fmt.Fprintf(&d, " (a symbolic link to %s)", real)
	}
	fmt.Fprintf(&d, " → %s %s verified", o.ref.Kind, o.ref.Name)
	locs := make([]Location, len(hits))
	for i := range hits {
		l := locFromEntry(&hits[i])
		l.Repo, l.Ref = repo, ref
		l.Kind, l.Via, l.Confidence, l.Detail = kindOfFile(ix, real), ViaAnnotation, ConfidenceHigh, d.String()
		locs[i] = l
	}
	return ambiguous("annotation "+AnnotationFile+"="+file, locs), true
}

// byNamespace keeps the entries whose namespace is the object's, else
// those that set none, else all.
func byNamespace(es []entry, ns string) []entry {
	var exact, unset []entry
	for _, e := range es {
		switch e.ns {
		case ns:
			exact = append(exact, e)
		case "":
			unset = append(unset, e)
		}
	}
	switch {
	case len(exact) > 0:
		return exact
	case len(unset) > 0:
		return unset
	}
	return es
}
