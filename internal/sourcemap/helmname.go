package sourcemap

import (
	"bufio"
	"bytes"
	"os"
	"strings"

	"github.com/kmend/kmend/internal/lazyre"
)

// nameLine matches a name: line with a literal value (quoted or not).
var nameLine = lazyre.New(`^\s*name:\s*["']?([A-Za-z0-9][A-Za-z0-9._-]*)["']?\s*(#.*)?$`)

// templateNaming returns the only template of hits (paths of root) with a
// name: line writing objName literally, or "". An app-of-apps chart has one
// template per Application, each with the Application's name written out;
// templated names ({{ include ... }}) never match.
func templateNaming(root *os.Root, hits []string, objName string) string {
	if objName == "" {
		return ""
	}
	var found []string
	for _, h := range hits {
		data, err := readLimited(root, h)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 64<<10), maxFileBytes)
		for sc.Scan() {
			line := sc.Text()
			if !strings.Contains(line, objName) {
				continue
			}
			if m := nameLine.FindStringSubmatch(line); m != nil && m[1] == objName {
				found = append(found, h)
				break
			}
		}
	}
	if len(found) != 1 {
		return ""
	}
	return found[0]
}
