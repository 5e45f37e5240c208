package output

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/kmend/kmend/internal/patch"
)

// WritePatches writes, for each fix, the manual fallback a person can copy:
// the strategic-merge patch, the RFC 6902 operations and kubectl commands.
func WritePatches(w io.Writer, fixes []*patch.Fix) error {
	for i, f := range fixes {
		fd := f.Result.Finding
		if i > 0 {
			fmt.Fprintln(w)
		}
		where := fd.Object.String()
		if fd.Container != "" {
			where += " container " + fd.Container
		}
		fmt.Fprintf(w, "# %s %s — %s\n", fd.ControlID, fd.Title, where)
		if fd.Position.File != "" {
			fmt.Fprintf(w, "# %s:%d  %s (%s)\n", fd.Position.File, fd.Position.Line, fd.Path, fd.Reason)
		}
		fmt.Fprintf(w, "# fixability: %s\n", fd.Fixability)
		fmt.Fprintln(w, "# strategic-merge patch:")
		fmt.Fprint(w, indentLines(string(f.StrategicMerge), ""))
		ops, err := json.MarshalIndent(f.JSONPatch, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(w, "# RFC 6902 JSON patch:")
		fmt.Fprintln(w, commentLines(string(ops)))
		fmt.Fprintln(w, "# kubectl:")
		for _, k := range f.Kubectl {
			fmt.Fprintln(w, "#   "+k)
		}
		if f.Note != "" {
			fmt.Fprintln(w, "# note: "+f.Note)
		}
	}
	return nil
}

func indentLines(s, prefix string) string {
	s = strings.TrimRight(s, "\n")
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix) + "\n"
}

func commentLines(s string) string {
	return "#   " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n#   ")
}
