package helm

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/catalog"
	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/patch"
)

// keyValue is one values key to set and its value.
type keyValue struct {
	key   []string
	value *yaml.Node
}

// candidate is a way to realise a fix through values: one or more keys.
type candidate struct {
	sets []keyValue
	// origin is "values" for a key found in the chart's values, or
	// "convention" for a common naming convention.
	origin string
}

func (c candidate) String() string {
	parts := make([]string, len(c.sets))
	for i, s := range c.sets {
		parts[i] = keyString(s.key)
	}
	return strings.Join(parts, ", ")
}

// leaf is one field a fix sets: its path relative to the level (the
// container, the pod template's spec or metadata, the object) and value.
type leaf struct {
	k     []string
	value *yaml.Node
}

// leafSet is the leaves of a fix at one level.
type leafSet struct {
	level  string
	leaves []leaf
}

// fixLeaves turns the fix's strategic-merge template into leaves, and,
// for a pod-level fix of a container-level control (a pod default that
// containers inherit), adds the same value at the container's own field as
// a second choice.
func fixLeaves(fx *patch.Fix) []leafSet {
	var raw []leaf
	collectLeaves(fx.Relative.YNode(), nil, &raw)
	primary := leafSet{level: fx.Level}
	for _, l := range raw {
		k := l.k
		if fx.Level == catalog.LevelPod && len(k) > 1 && k[0] == "spec" {
			k = k[1:]
		}
		primary.leaves = append(primary.leaves, leaf{k: k, value: l.value})
	}
	out := []leafSet{primary}
	c := fx.Result.Control
	if fx.Level == catalog.LevelPod && c.Check.Level == catalog.LevelContainer && c.Check.PodField != "" && len(raw) == 1 {
		pf, err1 := catalog.ParseField(c.Check.PodField)
		f, err2 := catalog.ParseField(c.Check.Field)
		if err1 == nil && err2 == nil {
			pk, fk := keysOf(pf.Expand(fx.Result.Target.Container)), keysOf(f.Expand(fx.Result.Target.Container))
			if slices.Equal(pk, raw[0].k) && fk != nil {
				out = append(out, leafSet{level: catalog.LevelContainer, leaves: []leaf{{k: fk, value: raw[0].value}}})
			}
		}
	}
	return out
}

// keysOf returns a field's keys, nil when it iterates a list.
func keysOf(f catalog.Field) []string {
	var out []string
	for _, s := range f {
		if s.Each {
			return nil
		}
		out = append(out, s.Key)
	}
	return out
}

func collectLeaves(n *yaml.Node, p []string, out *[]leaf) {
	if n.Kind == yaml.MappingNode && len(n.Content) > 0 {
		for i := 0; i+1 < len(n.Content); i += 2 {
			collectLeaves(n.Content[i+1], append(slices.Clone(p), n.Content[i].Value), out)
		}
		return
	}
	*out = append(*out, leaf{k: p, value: n})
}

// searchContext is what the key search knows about one failing result.
type searchContext struct {
	level     string
	container string
	// prefix is where the template's chart keeps its values in the
	// release's values: nil for the chart itself, [db] for subchart db.
	prefix []string
	// owner is the values key named like the container or the object's
	// component ([metrics] for a container "metrics"), when there is one.
	owner []string
	// components are the other top-level maps the template reads.
	components [][]string
	observed   string
	values     map[string]any
	refs       *templateRefs
	allRefs    map[string]bool
}

// scored is a candidate with its rank.
type scored struct {
	c                  candidate
	ref, owner         int
	kind, pref, length int
	text               string
}

// candidates lists the values keys to try for a fix, best first: keys of
// the chart's own values (found by name or by value), then the common
// conventions.
func candidates(fx *patch.Fix, sc *searchContext) []candidate {
	var out []candidate
	seen := map[string]bool{}
	add := func(c candidate) {
		s := c.String()
		if len(c.sets) == 0 || seen[s] {
			return
		}
		seen[s] = true
		out = append(out, c)
	}
	for _, ls := range fixLeaves(fx) {
		sub := *sc
		sub.level = ls.level
		for _, s := range ownCandidates(ls, &sub) {
			add(s.c)
		}
	}
	for _, ls := range fixLeaves(fx) {
		if len(ls.leaves) != 1 {
			continue
		}
		for _, c := range conventionCandidates(ls.leaves[0], ls.level, sc) {
			add(c)
		}
	}
	return out
}

// valuesEntry is one path of the chart's values and what it holds.
type valuesEntry struct {
	path  []string
	value any
	isMap bool
}

// walkValues lists the paths of a values tree, maps and their members; it
// does not go into lists. It stops after maxEntries.
func walkValues(v map[string]any) []valuesEntry {
	const maxEntries, maxDepth = 20000, 12
	var out []valuesEntry
	var walk func(p []string, m map[string]any)
	walk = func(p []string, m map[string]any) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if len(out) >= maxEntries {
				return
			}
			q := append(slices.Clone(p), k)
			sub, isMap := asMap(m[k])
			out = append(out, valuesEntry{path: q, value: m[k], isMap: isMap})
			if isMap && len(q) < maxDepth {
				walk(q, sub)
			}
		}
	}
	walk(nil, v)
	return out
}

func asMap(v any) (map[string]any, bool) {
	switch t := v.(type) {
	case map[string]any:
		return t, true
	case common.Values:
		return t, true
	}
	return nil, false
}

// ownCandidates finds keys in the chart's values: a map whose name matches
// a mapping of the field's path (securityContext, containerSecurityContext,
// resources, podSecurityContext...) with the rest of the path below it, or
// a scalar named like the field (pullPolicy for imagePullPolicy) or, when
// the template reads it, holding the failing value.
func ownCandidates(ls leafSet, sc *searchContext) []scored {
	entries := walkValues(sc.values)
	var out []scored
	first := ls.leaves[0].k
	for i := 0; i+1 < len(first); i++ {
		if !sharedPrefix(ls.leaves, i+1) {
			break
		}
		for _, e := range entries {
			if !(e.isMap || e.value == nil) {
				continue
			}
			name := e.path[len(e.path)-1]
			exact, ok := anchorMatch(name, first[i], sc.level)
			if !ok {
				continue
			}
			var c candidate
			c.origin = "values"
			for _, l := range ls.leaves {
				c.sets = append(c.sets, keyValue{key: append(slices.Clone(e.path), l.k[i+1:]...), value: l.value})
			}
			kind := 1
			if exact {
				kind = 0
			}
			out = append(out, sc.score(c, e.path, kind, levelPref(name, first[i], sc.level)))
		}
	}
	if len(ls.leaves) == 1 {
		l := ls.leaves[0]
		field := l.k[len(l.k)-1]
		for _, e := range entries {
			if e.isMap {
				continue
			}
			name := e.path[len(e.path)-1]
			c := candidate{origin: "values", sets: []keyValue{{key: e.path, value: l.value}}}
			switch {
			case nameMatch(name, field):
				out = append(out, sc.score(c, e.path[:len(e.path)-1], 1, 1))
			case sc.observed != "" && valueMatch(e.value, sc.observed) && sc.refScore(e.path) >= 2:
				out = append(out, sc.score(c, e.path[:len(e.path)-1], 2, 2))
			}
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		x, y := out[a], out[b]
		switch {
		case x.ref != y.ref:
			return x.ref > y.ref
		case x.owner != y.owner:
			return x.owner > y.owner
		case x.pref != y.pref:
			return x.pref < y.pref
		case x.kind != y.kind:
			return x.kind < y.kind
		case x.length != y.length:
			return x.length < y.length
		}
		return x.text < y.text
	})
	return out
}

func sharedPrefix(ls []leaf, n int) bool {
	for _, l := range ls {
		if len(l.k) <= n || !slices.Equal(l.k[:n], ls[0].k[:n]) {
			return false
		}
	}
	return true
}

func (sc *searchContext) score(c candidate, anchor []string, kind, pref int) scored {
	s := scored{c: c, kind: kind, pref: pref, text: c.String()}
	s.ref = sc.refScore(c.sets[0].key)
	if r := sc.refScore(anchor); len(anchor) > 0 && r > s.ref {
		s.ref = r
	}
	key := c.sets[0].key
	s.length = len(key)
	if len(sc.owner) > len(sc.prefix) && under(key, sc.owner) {
		s.owner = 1
	}
	for _, k := range key {
		if sc.container != "" && strings.EqualFold(k, sc.container) {
			s.owner = 1
		}
	}
	return s
}

// refScore says how directly the object's template reads a values path:
// 3 when the template reads it (or a map above or below it), 2 when its
// chart's helpers do, 1 when any template of the chart does, else 0.
func (sc *searchContext) refScore(p []string) int {
	if len(p) == 0 || sc.refs == nil {
		return 0
	}
	related := func(refs map[string]bool) bool {
		for r := range refs {
			rp := strings.Split(r, ".")
			if under(p, rp) || under(rp, p) {
				return true
			}
		}
		return false
	}
	switch {
	case related(sc.refs.own):
		return 3
	case related(sc.refs.helpers):
		return 2
	case related(sc.allRefs):
		return 1
	}
	return 0
}

// anchorMatch says whether a values map named name can stand for the
// Kubernetes field k at the given level: the same name
// (securityContext), or a name ending with it (containerSecurityContext,
// podSecurityContext); a pod-level name never stands for a container's
// field, nor a container-level one for the pod's.
func anchorMatch(name, k, level string) (exact, ok bool) {
	if k == "spec" || k == "template" {
		return false, false
	}
	ln, lk := strings.ToLower(name), strings.ToLower(k)
	switch level {
	case catalog.LevelContainer:
		if strings.HasPrefix(ln, "pod") && ln != lk {
			return false, false
		}
	case catalog.LevelPod:
		if strings.HasPrefix(ln, "container") && ln != lk {
			return false, false
		}
	}
	if ln == lk {
		return true, true
	}
	return false, len(ln) > len(lk) && strings.HasSuffix(ln, lk)
}

// levelPref ranks anchor names: the level's own (podSecurityContext for
// the pod, containerSecurityContext for a container) first, then the
// plain name, then other names ending with it.
func levelPref(name, k, level string) int {
	if strings.EqualFold(name, level+k) {
		return 0
	}
	if strings.EqualFold(name, k) {
		return 1
	}
	return 2
}

// nameMatch says whether a scalar values key is named like a field:
// equal, or one ending with the other (pullPolicy, imagePullPolicy), or
// one starting with the other (automount, automountServiceAccountToken).
func nameMatch(name, field string) bool {
	a, b := strings.ToLower(name), strings.ToLower(field)
	if a == b {
		return true
	}
	short, long := a, b
	if len(short) > len(long) {
		short, long = long, short
	}
	return len(short) >= 4 && strings.HasSuffix(long, short) || len(short) >= 6 && strings.HasPrefix(long, short)
}

// valueMatch says whether a values scalar holds the failing value. Only
// distinctive values count: strings of three characters or more that are
// not booleans.
func valueMatch(v any, observed string) bool {
	s, ok := v.(string)
	if !ok || len(observed) < 3 || observed == "true" || observed == "false" {
		return false
	}
	return s == observed
}

// conventionCandidates are the keys charts commonly use for a field,
// tried whether or not the chart's values show them, with the owner
// component's prefix first (metrics.securityContext for a container named
// metrics), then unprefixed, then other components the template reads.
func conventionCandidates(l leaf, level string, sc *searchContext) []candidate {
	k := l.k
	var base []keyValue
	addKey := func(key ...string) { base = append(base, keyValue{key: key, value: l.value}) }
	switch {
	case level == catalog.LevelContainer && len(k) > 1 && k[0] == "securityContext":
		addKey(append([]string{"containerSecurityContext"}, k[1:]...)...)
		addKey(append([]string{"securityContext"}, k[1:]...)...)
	case level == catalog.LevelPod && len(k) > 1 && k[0] == "securityContext":
		addKey(append([]string{"podSecurityContext"}, k[1:]...)...)
		addKey(append([]string{"securityContext"}, k[1:]...)...)
	case level == catalog.LevelContainer && len(k) > 1 && k[0] == "resources":
		addKey(k...)
	case level == catalog.LevelContainer && slices.Equal(k, []string{"imagePullPolicy"}):
		addKey("image", "pullPolicy")
		addKey("imagePullPolicy")
		addKey("global", "imagePullPolicy")
	case level == catalog.LevelContainer && slices.Equal(k, []string{"image"}):
		base = append(base, imageKeys(l.value)...)
	case level == catalog.LevelPod && slices.Equal(k, []string{"automountServiceAccountToken"}):
		addKey("automountServiceAccountToken")
		addKey("serviceAccount", "automountServiceAccountToken")
		addKey("serviceAccount", "automount")
	}
	if len(k) > 0 && !slices.Equal(k, []string{"image"}) {
		addKey(k...)
	}
	var prefixes [][]string
	if len(sc.owner) > len(sc.prefix) {
		prefixes = append(prefixes, sc.owner)
	}
	prefixes = append(prefixes, sc.prefix)
	for _, c := range sc.components {
		if !slices.Equal(c, sc.owner) {
			prefixes = append(prefixes, c)
		}
	}
	var out []candidate
	for _, p := range prefixes {
		for _, kv := range base {
			key := append(slices.Clone(p), kv.key...)
			out = append(out, candidate{origin: "convention", sets: []keyValue{{key: key, value: kv.value}}})
		}
	}
	return out
}

// imageKeys splits an image reference a fix wants into the image.digest
// and image.tag keys charts use.
func imageKeys(v *yaml.Node) []keyValue {
	if v.Kind != yaml.ScalarNode || v.Value == "" {
		return nil
	}
	ref, digest, _ := strings.Cut(v.Value, "@")
	tag := ""
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		tag = ref[i+1:]
	}
	str := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }
	var out []keyValue
	if digest != "" {
		out = append(out, keyValue{key: []string{"image", "digest"}, value: str(digest)})
	}
	if tag != "" {
		out = append(out, keyValue{key: []string{"image", "tag"}, value: str(tag)})
	}
	return out
}

// newSearchContext gathers what the key search needs for one result.
func newSearchContext(r check.Result, obj *Object, values map[string]any, refs map[string]*templateRefs) *searchContext {
	sc := &searchContext{
		container: r.Target.Container,
		observed:  r.Finding.Observed,
		values:    values,
		refs:      refs[obj.Source],
		allRefs:   map[string]bool{},
	}
	if sc.observed == check.Redacted {
		sc.observed = ""
	}
	for _, tr := range refs {
		for k := range tr.own {
			sc.allRefs[k] = true
		}
	}
	if sc.refs != nil {
		sc.prefix = sc.refs.prefix
	}
	inValues := func(name string) bool {
		m := values
		for _, p := range sc.prefix {
			if m, _ = asMap(m[p]); m == nil {
				return false
			}
		}
		_, ok := asMap(m[name])
		return ok
	}
	sc.owner = sc.prefix
	for _, o := range []string{r.Target.Container, obj.Node.GetLabels()["app.kubernetes.io/component"]} {
		if o != "" && inValues(o) && !conventionRoot(o) {
			sc.owner = append(slices.Clone(sc.prefix), o)
			break
		}
	}
	if sc.refs != nil {
		seen := map[string]bool{}
		var names []string
		for ref := range sc.refs.own {
			parts := strings.Split(ref, ".")
			if len(parts) < len(sc.prefix)+2 {
				continue
			}
			c := parts[len(sc.prefix)]
			if seen[c] || conventionRoot(c) || !inValues(c) || !componentLike(values, append(slices.Clone(sc.prefix), c)) {
				continue
			}
			seen[c] = true
			names = append(names, c)
		}
		sort.Strings(names)
		for _, c := range names {
			sc.components = append(sc.components, append(slices.Clone(sc.prefix), c))
		}
	}
	return sc
}

// componentLike says whether a values map looks like the settings of a
// component (a sidecar, a second workload): it holds keys workloads are
// configured with.
func componentLike(values map[string]any, p []string) bool {
	v, ok := lookupValue(values, p)
	if !ok {
		return false
	}
	m, _ := asMap(v)
	for k := range m {
		switch k {
		case "image", "securityContext", "containerSecurityContext", "podSecurityContext", "resources",
			"replicaCount", "nodeSelector", "tolerations", "affinity", "serviceAccount", "automountServiceAccountToken":
			return true
		}
	}
	return false
}

// conventionRoot is a top-level values key of the conventions, never a
// component name.
func conventionRoot(k string) bool {
	switch k {
	case "securityContext", "podSecurityContext", "containerSecurityContext", "resources", "image",
		"serviceAccount", "global", "automountServiceAccountToken", "imagePullPolicy":
		return true
	}
	return false
}

// describeValue writes a value node compactly: a scalar's text, a list or
// map in flow style.
func describeValue(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!null" {
			return "null"
		}
		if n.Tag == "!!str" && n.Value == "" {
			return `""`
		}
		return n.Value
	}
	c := cleanCopy(n)
	setFlow(c)
	s, err := yaml.NewRNode(c).String()
	if err != nil {
		return fmt.Sprint(n.Value)
	}
	return strings.TrimSpace(s)
}

func setFlow(n *yaml.Node) {
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		n.Style |= yaml.FlowStyle
	}
	for _, c := range n.Content {
		setFlow(c)
	}
}
