package catalog

import (
	"fmt"
	"strings"
)

// Catalog is a validated set of controls, indexed by ID and foreign ID.
type Catalog struct {
	controls []*Control
	byID     map[string]*Control
	foreign  map[string][]*Control // "tool/id" and "id" → controls
}

// New indexes controls; duplicate IDs are an error naming both files.
func New(cs ...*Control) (*Catalog, error) {
	c := &Catalog{byID: map[string]*Control{}, foreign: map[string][]*Control{}}
	for _, ctl := range cs {
		if prev, ok := c.byID[ctl.ID]; ok {
			return nil, &Error{File: ctl.Source, Msg: fmt.Sprintf("duplicate control id %s (also in %s)", ctl.ID, prev.Source)}
		}
		c.byID[ctl.ID] = ctl
		c.controls = append(c.controls, ctl)
		ctl.ForeignIDs.Each(func(tool, id string) {
			for _, k := range []string{tool + "/" + strings.ToLower(id), strings.ToLower(id)} {
				c.foreign[k] = append(c.foreign[k], ctl)
			}
		})
	}
	SortByID(c.controls)
	return c, nil
}

// All returns the controls ordered by ID. The slice must not be modified.
func (c *Catalog) All() []*Control { return c.controls }

// Get returns the control with this ID (case-insensitive).
func (c *Catalog) Get(id string) (*Control, bool) {
	if ctl, ok := c.byID[id]; ok {
		return ctl, true
	}
	ctl, ok := c.byID[strings.ToUpper(id)]
	return ctl, ok
}

// Lookup maps another tool's ID to kmend controls. tool may be empty to
// match any tool. Several controls may share a foreign ID (one Kubescape
// control can cover two of kmend's).
func (c *Catalog) Lookup(tool, id string) []*Control {
	key := strings.ToLower(id)
	if tool != "" {
		key = strings.ToLower(tool) + "/" + key
	}
	return c.foreign[key]
}

// Select returns the controls whose IDs are listed (all when ids is empty);
// unknown IDs are an error.
func (c *Catalog) Select(ids []string) ([]*Control, error) {
	if len(ids) == 0 {
		return c.controls, nil
	}
	var out []*Control
	for _, id := range ids {
		ctl, ok := c.Get(strings.TrimSpace(id))
		if !ok {
			return nil, fmt.Errorf("unknown control %q (kmend catalog list shows them)", id)
		}
		out = append(out, ctl)
	}
	return out, nil
}

// Warm parses every why-text template now, so checks do not pay for it on
// first use; the CLI calls it while inputs are still being read.
func (c *Catalog) Warm() {
	for _, ctl := range c.controls {
		for _, t := range []string{ctl.Why.Unset, ctl.Why.Risky, ctl.Why.Inherited} {
			if t != "" {
				_, _ = parseTemplate(ctl.ID, t)
			}
		}
	}
}
