package score

import (
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/kmend/kmend/internal/check"
	"github.com/kmend/kmend/internal/finding"
	"github.com/kmend/kmend/internal/manifest"
)

// Exposure factors, documented in docs/score.md.
const (
	hostAccessFactor = 1.0  // privileged or host namespaces/paths
	exposedFactor    = 0.5  // selected by a LoadBalancer/NodePort Service or behind an Ingress
	provenanceFactor = 0.25 // image tag latest or none
)

// hostAccess are the controls whose failure gives a workload access to the
// node; provenance those about where images come from.
var (
	hostAccess = map[string]bool{"KM-001": true, "KM-008": true, "KM-015": true, "KM-016": true, "KM-017": true, "KM-018": true, "KM-019": true, "KM-035": true}
	provenance = map[string]bool{"KM-027": true}
)

type exposure struct {
	host, exposed, weakImage bool
	reasons                  []string
}

func (e exposure) factor() float64 {
	f := 1.0
	if e.host {
		f += hostAccessFactor
	}
	if e.exposed {
		f += exposedFactor
	}
	if e.weakImage {
		f += provenanceFactor
	}
	return f
}

// exposureOf works out each workload's exposure from the findings and the
// Services and Ingresses among objs.
func exposureOf(objs []manifest.Object, results []check.Result) map[finding.ObjectRef]exposure {
	out := map[finding.ObjectRef]exposure{}
	for _, r := range results {
		if r.Finding.Suppression != nil {
			continue
		}
		e := out[r.Finding.Object]
		if hostAccess[r.Control.ID] && !e.host {
			e.host = true
			e.reasons = append(e.reasons, "host access")
		}
		if provenance[r.Control.ID] && !e.weakImage {
			e.weakImage = true
			e.reasons = append(e.reasons, "image tag latest or none")
		}
		out[r.Finding.Object] = e
	}
	services := exposedServices(objs)
	for _, o := range objs {
		tp, ok := check.TemplatePath(o.Ref.Kind)
		if !ok {
			continue
		}
		labels := stringMap(check.Lookup(o.Node, append(append([]string{}, tp...), "metadata", "labels")...))
		for _, s := range services {
			if s.namespace == o.Ref.Namespace && len(s.selector) > 0 && subset(s.selector, labels) {
				e := out[o.Ref]
				if !e.exposed {
					e.exposed = true
					e.reasons = append(e.reasons, s.how)
				}
				out[o.Ref] = e
			}
		}
	}
	return out
}

type service struct {
	namespace, name, how string
	selector             map[string]string
}

// exposedServices are the Services reachable from outside the cluster:
// type LoadBalancer or NodePort, or named as a backend by an Ingress.
func exposedServices(objs []manifest.Object) []service {
	backends := map[[2]string]bool{}
	for _, o := range objs {
		if o.Ref.Kind != "Ingress" {
			continue
		}
		walk(o.Node.YNode(), func(n *yaml.Node) {
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == "service" || n.Content[i].Value == "serviceName" {
						name := n.Content[i+1].Value
						if m := check.Lookup(yaml.NewRNode(n.Content[i+1]), "name"); m != nil {
							name = m.YNode().Value
						}
						backends[[2]string{o.Ref.Namespace, name}] = true
					}
				}
			}
		})
	}
	var out []service
	for _, o := range objs {
		if o.Ref.Kind != "Service" {
			continue
		}
		t := ""
		if n := check.Lookup(o.Node, "spec", "type"); n != nil {
			t = n.YNode().Value
		}
		how := ""
		switch {
		case t == "LoadBalancer" || t == "NodePort":
			how = "exposed by Service " + o.Ref.Name + " (" + t + ")"
		case backends[[2]string{o.Ref.Namespace, o.Ref.Name}]:
			how = "exposed by an Ingress through Service " + o.Ref.Name
		default:
			continue
		}
		out = append(out, service{namespace: o.Ref.Namespace, name: o.Ref.Name, how: how,
			selector: stringMap(check.Lookup(o.Node, "spec", "selector"))})
	}
	return out
}

func walk(n *yaml.Node, fn func(*yaml.Node)) {
	fn(n)
	for _, c := range n.Content {
		walk(c, fn)
	}
}

func stringMap(n *yaml.RNode) map[string]string {
	out := map[string]string{}
	if n == nil || n.YNode().Kind != yaml.MappingNode {
		return out
	}
	c := n.YNode().Content
	for i := 0; i+1 < len(c); i += 2 {
		out[c[i].Value] = c[i+1].Value
	}
	return out
}

func subset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}
