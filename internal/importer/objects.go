package importer

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/finding"
)

// ParseObjects reads reports given as decoded objects, as a client lists
// them from the API server (the Object of an unstructured.Unstructured).
// Each object is read as a document of its own and named in errors by its
// kind, namespace and name; an object that is not a report the importer
// reads is an error of that object. The result is never nil.
func ParseObjects(objs []map[string]any, cat *catalog.Catalog) *Result {
	var rs []*Result
	var errs []*EntryError
	for _, o := range objs {
		name := objectName(o)
		raw, err := json.Marshal(o)
		if err != nil {
			errs = append(errs, &EntryError{Name: name, Err: err})
			continue
		}
		r, err := parseDocs(name, []doc{{raw: raw}}, nil, cat)
		if err != nil {
			errs = append(errs, &EntryError{Name: name, Err: unwrapName(name, err)})
			continue
		}
		rs = append(rs, r)
	}
	res := Merge(rs...)
	res.Errors = append(res.Errors, errs...)
	return res
}

// objectName names an object "Kind namespace/name" (or "Kind name").
func objectName(o map[string]any) string {
	kind, _ := o["kind"].(string)
	meta, _ := o["metadata"].(map[string]any)
	ns, _ := meta["namespace"].(string)
	name, _ := meta["name"].(string)
	if ns != "" {
		name = ns + "/" + name
	}
	return strings.TrimSpace(kind + " " + name)
}

// unwrapName drops the "name: " prefix parseDocs puts on its errors.
func unwrapName(name string, err error) error {
	if s := err.Error(); strings.HasPrefix(s, name+": ") {
		return fmt.Errorf("%s", strings.TrimPrefix(s, name+": "))
	}
	return err
}

// Lift moves what the result says about an object onto the object that
// owns it, as top says (a ReplicaSet's Deployment, a Job's CronJob, a
// Pod's top owner: the object a person wrote, where the fix belongs). top
// returns false to keep an object as it is; it may also return the object
// itself, completed (with its cluster, API version and UID). Paths into a pod spec are
// rebased onto the owner's pod template (spec.containers[0] of a Pod is
// spec.template.spec.containers[0] of its Deployment), and each moved
// finding's message says where it was reported. Findings that become
// duplicates are merged, as Merge does. The owner references recorded for
// a moved object are dropped: the chain is walked.
func (r *Result) Lift(top func(finding.ObjectRef) (finding.ObjectRef, bool)) *Result {
	moved := map[finding.ObjectRef]finding.ObjectRef{}
	// to returns the object o becomes, and whether that is another object
	// (top may return o itself completed: with a cluster, API version or
	// UID).
	to := func(o finding.ObjectRef) (finding.ObjectRef, bool) {
		t, ok := moved[o]
		if !ok {
			if t, ok = top(o); !ok {
				t = o
			}
			moved[o] = t
		}
		return t, t.Kind != o.Kind || t.Namespace != o.Namespace || t.Name != o.Name
	}
	b := newBuilder(nil)
	lift := func(list *[]finding.Finding, seen map[string]int, fs []finding.Finding) {
		for _, f := range fs {
			t, other := to(f.Object)
			if other {
				f.Path = rebase(f.Path, f.Object.Kind, t.Kind)
				note := fmt.Sprintf("(reported on %s; its owner chain in the cluster leads to %s)", f.Object, t)
				f.Message = strings.TrimSpace(f.Message + "\n" + note)
			}
			f.Object = t
			b.add(list, seen, f)
		}
	}
	lift(&b.res.Findings, b.seenFindings, r.Findings)
	lift(&b.res.Unmapped, b.seenUnmapped, r.Unmapped)
	b.res.Errors = append(b.res.Errors, r.Errors...)
	for _, o := range slices.SortedFunc(maps.Keys(r.Owners), compareObjects) {
		t, other := to(o)
		if other {
			continue
		}
		for _, ow := range r.Owners[o] {
			b.owner(t, ow)
		}
	}
	for p, failed := range r.Checked {
		p.Object, _ = to(p.Object)
		b.check(p, failed)
	}
	b.finish()
	return b.res
}

// podSpecPath is where each workload kind holds its pod spec.
func podSpecPath(kind string) string {
	switch kind {
	case "Pod":
		return "spec"
	case "CronJob":
		return "spec.jobTemplate.spec.template.spec"
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job":
		return "spec.template.spec"
	}
	return ""
}

// rebase moves a path into the pod spec of kind from to the pod spec of
// kind to; other paths are kept.
func rebase(path, from, to string) string {
	pf, pt := podSpecPath(from), podSpecPath(to)
	if pf == "" || pt == "" || pf == pt {
		return path
	}
	switch {
	case path == pf:
		return pt
	case strings.HasPrefix(path, pf+"."), strings.HasPrefix(path, pf+"["):
		return pt + path[len(pf):]
	}
	return path
}
