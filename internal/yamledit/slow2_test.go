package yamledit

import (
	"strings"
	"testing"
	"time"
)

func TestSlowShapes(t *testing.T) {
	shapes := map[string]string{
		"multiline plain": "a: " + strings.Repeat("word\n  ", 6000) + "end\nb: 1\n",
		"many items":      "a:\n" + strings.Repeat("- x\n", 8000),
		"own-line items":  "a:\n" + strings.Repeat("-\n  x: 1\n", 4000),
		"deep":            strings.Repeat("a:\n", 1) + func() string { var b strings.Builder; for i := 0; i < 500; i++ { b.WriteString(strings.Repeat(" ", i+1) + "a:\n") }; return b.String() }(),
		"long flow":       "a: [" + strings.Repeat("x, ", 15000) + "y]\n",
		"many keys":       func() string { var b strings.Builder; for i := 0; i < 5000; i++ { b.WriteString("k" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + itoa(i) + ": v\n") }; return b.String() }(),
	}
	for name, data := range shapes {
		for op := uint8(0); op < 4; op++ {
			start := time.Now()
			checkFuzzEdit(t, []byte(data), 0, op, 0)
			t.Logf("%s op %d: %v (%d bytes)", name, op, time.Since(start), len(data))
		}
	}
}

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + string(rune('0'+i%10)) + string(rune('0'+i/10%10)) + string(rune('0'+i/100%10)) + string(rune('0'+i/1000%10))) }
