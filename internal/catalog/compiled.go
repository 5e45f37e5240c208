package catalog

import (
	"encoding/json"
	"fmt"

	"github.com/kmend/kmend/patches"
)

// CompiledFile is the embedded catalog, validated and stored as JSON when
// it is built (make catalog), so that starting kmend costs a JSON decode
// instead of parsing and validating every control file. A test fails when
// it is older than the control files.
const CompiledFile = "catalog.json"

// compiledControl is a Control as stored in the compiled catalog.
type compiledControl struct {
	*Control
	Source string `json:"source"`
	Dir    string `json:"dir"`
}

// Compile stores validated controls as JSON.
func Compile(cs []*Control) ([]byte, error) {
	out := make([]compiledControl, len(cs))
	for i, c := range cs {
		out[i] = compiledControl{Control: c, Source: c.Source, Dir: c.Dir}
	}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func decodeCompiled(b []byte) ([]*Control, error) {
	var in []compiledControl
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("patches/%s: %w (run make catalog)", CompiledFile, err)
	}
	out := make([]*Control, len(in))
	for i, c := range in {
		c.Control.Source, c.Control.Dir, c.Control.Builtin = c.Source, c.Dir, true
		c.Control.SeverityName = c.Control.Severity.String()
		out[i] = c.Control
	}
	return out, nil
}

// LoadSources loads the built-in catalog from its control files with full
// validation: what `make catalog` compiles and `kmend catalog validate`
// checks.
func LoadSources() ([]*Control, error) {
	cs, err := LoadFS(patches.FS, ".", "patches")
	for _, c := range cs {
		c.Builtin = true
	}
	return cs, err
}
