package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// MinEvery is the shortest "@every" schedule.
const MinEvery = time.Hour

// checkSchedule validates a schedule loosely: it must be a standard
// five-field cron expression (minute hour day-of-month month day-of-week;
// each field "*", "?", numbers, ranges "a-b", lists "a,b", steps "*/n" or
// "a-b/n", with month and weekday names allowed), one of the descriptors
// @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually, or
// "@every <duration>" of at least MinEvery. It checks the shape and the
// ranges of the numbers, not whether the expression ever fires.
func checkSchedule(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if strings.HasPrefix(s, "@") {
		switch s {
		case "@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually":
			return nil
		}
		if rest, ok := strings.CutPrefix(s, "@every "); ok {
			d, err := time.ParseDuration(strings.TrimSpace(rest))
			if err != nil {
				return fmt.Errorf("@every needs a duration like 6h: %v", err)
			}
			if d < MinEvery {
				return fmt.Errorf("@every %s is more often than every %s", d, MinEvery)
			}
			return nil
		}
		return fmt.Errorf("unknown descriptor (want @hourly, @daily, @weekly, @monthly, @yearly or @every <duration>)")
	}
	fields := strings.Fields(s)
	if len(fields) != 5 {
		return fmt.Errorf("%d fields; a cron schedule has 5 (minute hour day-of-month month day-of-week)", len(fields))
	}
	for i, f := range fields {
		if err := cronFields[i].check(f); err != nil {
			return fmt.Errorf("%s field %q: %v", cronFields[i].name, f, err)
		}
	}
	// kmend serve evaluates schedules with robfig/cron: what it cannot
	// evaluate is refused here, not ignored there.
	if _, err := ParseSchedule(s); err != nil {
		return err
	}
	return nil
}

// ParseSchedule turns a schedule into one that says when it next fires.
// Sunday may be written 7 (robfig/cron only knows 0).
func ParseSchedule(s string) (cron.Schedule, error) {
	s = strings.TrimSpace(s)
	if fields := strings.Fields(s); len(fields) == 5 {
		var items []string
		for _, item := range strings.Split(fields[4], ",") {
			base, step, hasStep := strings.Cut(item, "/")
			switch {
			case base == "7":
				base = "0"
			case strings.HasSuffix(base, "-7"):
				from, _ := strconv.Atoi(strings.TrimSuffix(base, "-7"))
				base = strings.TrimSuffix(base, "-7") + "-6"
				n := 1
				if hasStep {
					n, _ = strconv.Atoi(step)
				}
				if n > 0 && (7-from)%n == 0 {
					items = append(items, "0")
				}
			}
			if hasStep {
				base += "/" + step
			}
			items = append(items, base)
		}
		fields[4] = strings.Join(items, ",")
		s = strings.Join(fields, " ")
	}
	return cron.ParseStandard(s)
}

type cronField struct {
	name     string
	min, max int
	names    []string // names[i] stands for from+i
	from     int      // the number names[0] stands for
}

var cronFields = [5]cronField{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day-of-month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, from: 1, names: []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
	{name: "day-of-week", min: 0, max: 7, from: 0, names: []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
}

func (f cronField) check(s string) error {
	for _, item := range strings.Split(s, ",") {
		rng, step, hasStep := strings.Cut(item, "/")
		if hasStep {
			n, err := strconv.Atoi(step)
			if err != nil || n < 1 || n > f.max {
				return fmt.Errorf("bad step %q", step)
			}
		}
		if rng == "*" || rng == "?" {
			continue
		}
		lo, hi, isRange := strings.Cut(rng, "-")
		a, err := f.value(lo)
		if err != nil {
			return err
		}
		if isRange {
			b, err := f.value(hi)
			if err != nil {
				return err
			}
			if b < a {
				return fmt.Errorf("range %s runs backwards", rng)
			}
		}
	}
	return nil
}

func (f cronField) value(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < f.min || n > f.max {
			return 0, fmt.Errorf("%d is outside %d-%d", n, f.min, f.max)
		}
		return n, nil
	}
	for i, name := range f.names {
		if strings.EqualFold(s, name) {
			return f.from + i, nil
		}
	}
	return 0, fmt.Errorf("%q is not a number", s)
}
