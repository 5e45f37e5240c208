package catalog

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// UnmarshalYAML keeps a scalar's text, whatever its YAML type.
func (s *Scalar) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a scalar", n.Line)
	}
	s.Value = n.Value
	return nil
}

// MarshalText writes the scalar's text.
func (s Scalar) MarshalText() ([]byte, error) { return []byte(s.Value), nil }

// UnmarshalText reads a scalar's text (from the compiled catalog).
func (s *Scalar) UnmarshalText(b []byte) error {
	s.Value = string(b)
	return nil
}
