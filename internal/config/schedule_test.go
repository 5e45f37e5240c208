package config

import (
	"testing"
	"time"
)

// Sunday written 7 fires on Sunday, as cron users expect.
func TestParseScheduleSunday(t *testing.T) {
	sat := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) // a Saturday
	for _, s := range []string{"0 6 * * 7", "0 6 * * 0", "0 6 * * 6-7", "0 6 * * sun"} {
		sched, err := ParseSchedule(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if next := sched.Next(sat); next.Weekday() != time.Sunday || next.Hour() != 6 {
			t.Errorf("%q: next after Saturday noon is %s", s, next)
		}
	}
	if _, err := ParseSchedule("0 6 * * 8"); err == nil {
		t.Error("weekday 8 accepted")
	}
}
