package yamledit

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSlowCorpus(t *testing.T) {
	dir := os.Getenv("CORPUS")
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, fn := range files {
		raw, _ := os.ReadFile(fn)
		lines := strings.Split(string(raw), "\n")
		data, _ := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
		num := func(s string) int { s = strings.TrimSuffix(s[strings.Index(s, "(")+1:], ")"); if u, err := strconv.Unquote(s); err == nil { return int(u[0]) }; n, _ := strconv.Atoi(s); return n }
		start := time.Now()
		checkFuzzEdit(t, []byte(data), uint16(num(lines[2])), uint8(num(lines[3])), uint8(num(lines[4])))
		if d := time.Since(start); d > 20*time.Millisecond {
			t.Logf("%s: %v (%d bytes)", filepath.Base(fn), d, len(data))
		}
	}
}
