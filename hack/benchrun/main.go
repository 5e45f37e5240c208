// Command benchrun is the measuring half of hack/bench.sh. Standard library
// only.
//
//	benchrun run [-n 5] [-label L] [-md FILE] [-tsv FILE] [-setup 'sh cmd']
//	             [-args-from LIST] [-ok 0,1] [-stdout FILE] [-timeout 5m]
//	             [-budget 0] [-dir DIR] -- CMD ARGS...
//
// runs CMD n times and reports the median wall time and the peak resident
// set size of the child (os.ProcessState.SysUsage().(*syscall.Rusage).Maxrss,
// KiB on Linux; wait4 folds in the child's own waited-for descendants, so a
// shell wrapper still reports its largest process). -setup runs through
// "sh -c" before every run and is not timed (a fresh copy of a tree for a
// fix). -args-from appends the lines of a file to the arguments (a file list
// for tools that take files, not directories). -stdout keeps the standard
// output of the last run. -budget starts no new run once the timed runs
// took that long in total, to bound slow cases (one run always happens);
// the number of runs is reported. The result is appended as a Markdown table row to
// -md (the header is written first when the file is empty) and as a TSV
// line (label, median s, min s, max s, peak RSS KiB, runs, exit codes) to
// -tsv, and printed.
//
//	benchrun findings FILE
//
// counts the findings of a "kmend scan -o json" report: prints
// "total auto review manual".
//
//	benchrun formatting ORIGDIR FIXEDDIR
//
// compares every file of ORIGDIR with the same file under FIXEDDIR and
// prints "files_changed comment_blank_lines_lost lines_added lines_removed
// lines_changed": comment or blank lines of the original missing from the
// fixed file (as a multiset; a CRLF line turned LF counts as lost), and the
// diff size, where lines_changed counts each hunk as max(added, removed).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = run(os.Args[2:])
	case "findings":
		err = findings(os.Args[2:])
	case "formatting":
		err = formatting(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage:
  benchrun run [-n 5] [-label L] [-md FILE] [-tsv FILE] [-setup CMD] [-args-from LIST] [-ok 0,1] [-stdout FILE] [-timeout 5m] [-budget 0] [-dir DIR] -- CMD ARGS...
  benchrun findings KMEND_JSON_REPORT
  benchrun formatting ORIGDIR FIXEDDIR`)
	os.Exit(2)
}

// ---- run -----------------------------------------------------------------

type result struct {
	label          string
	walls          []time.Duration
	peakKiB        int64
	codes          []int
	failed         string
	median, lo, hi time.Duration
}

func run(args []string) error {
	fl := flag.NewFlagSet("run", flag.ExitOnError)
	n := fl.Int("n", 5, "number of runs")
	label := fl.String("label", "", "row label (default: the command)")
	md := fl.String("md", "", "append a Markdown table row to this file")
	tsv := fl.String("tsv", "", "append a TSV line to this file")
	setup := fl.String("setup", "", "shell command run before every run, not timed")
	argsFrom := fl.String("args-from", "", "file whose lines are appended to the command's arguments")
	okCodes := fl.String("ok", "0,1", "exit codes that count as success")
	stdout := fl.String("stdout", "", "keep the standard output of the last successful run here")
	timeout := fl.Duration("timeout", 5*time.Minute, "limit of one run")
	dir := fl.String("dir", "", "working directory of the command")
	budget := fl.Duration("budget", 0, "start no new run once the timed runs took this long in total (0: no limit)")
	fl.Parse(args)
	cmdArgs := fl.Args()
	if len(cmdArgs) == 0 || *n < 1 {
		usage()
	}
	if *argsFrom != "" {
		data, err := os.ReadFile(*argsFrom)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(data), "\n") {
			if line = strings.TrimRight(line, "\r"); line != "" {
				cmdArgs = append(cmdArgs, line)
			}
		}
	}
	ok := map[int]bool{}
	for _, s := range strings.Split(*okCodes, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("-ok: %w", err)
		}
		ok[c] = true
	}
	res := result{label: *label}
	if res.label == "" {
		res.label = strings.Join(fl.Args(), " ")
	}
	// the child runs in its own process group (so that a timeout can kill
	// all of it): pass an interrupt on to that group
	var child atomic.Int64
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		if pid := child.Load(); pid > 0 {
			syscall.Kill(-int(pid), syscall.SIGKILL)
		}
		fmt.Fprintf(os.Stderr, "benchrun: %s\n", s)
		os.Exit(130)
	}()
	var spent time.Duration
	for i := 0; i < *n; i++ {
		if *budget > 0 && i > 0 && spent >= *budget {
			break
		}
		if *setup != "" {
			c := exec.Command("sh", "-c", *setup)
			c.Stdout, c.Stderr = os.Stderr, os.Stderr
			if err := c.Run(); err != nil {
				return fmt.Errorf("setup %q: %w", *setup, err)
			}
		}
		var out io.Writer = io.Discard
		var buf *bytes.Buffer
		if *stdout != "" { // every run's: -budget may end the runs early
			buf = &bytes.Buffer{}
			out = buf
		}
		var stderr bytes.Buffer
		c := exec.Command(cmdArgs[0], cmdArgs[1:]...)
		c.Dir = *dir
		c.Stdout, c.Stderr = out, &stderr
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a timeout kills the whole group
		start := time.Now()
		if err := c.Start(); err != nil {
			res.failed = firstLine(err.Error())
			break
		}
		child.Store(int64(c.Process.Pid))
		timer := time.AfterFunc(*timeout, func() { syscall.Kill(-c.Process.Pid, syscall.SIGKILL) })
		err := c.Wait()
		child.Store(0)
		wall := time.Since(start)
		timer.Stop()
		code := c.ProcessState.ExitCode()
		if ru, isRU := c.ProcessState.SysUsage().(*syscall.Rusage); isRU {
			// Maxrss is KiB on Linux (bytes on macOS).
			kib := int64(ru.Maxrss)
			if runtime.GOOS == "darwin" {
				kib /= 1024
			}
			res.peakKiB = max(res.peakKiB, kib)
		}
		res.codes = append(res.codes, code)
		if wall >= *timeout {
			res.failed = fmt.Sprintf("timed out after %s", *timeout)
			break
		}
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			res.failed = firstLine(err.Error())
			break
		}
		if !ok[code] {
			msg := firstLine(stderr.String())
			if msg == "" {
				msg = "no message"
			}
			res.failed = fmt.Sprintf("exit %d: %s", code, msg)
			break
		}
		res.walls = append(res.walls, wall)
		spent += wall
		if buf != nil {
			if err := os.WriteFile(*stdout, buf.Bytes(), 0o644); err != nil {
				return err
			}
		}
	}
	if len(res.walls) > 0 {
		s := slices.Clone(res.walls)
		slices.Sort(s)
		res.lo, res.hi = s[0], s[len(s)-1]
		if len(s)%2 == 1 {
			res.median = s[len(s)/2]
		} else {
			res.median = (s[len(s)/2-1] + s[len(s)/2]) / 2
		}
	}
	row, line := res.markdown(), res.tsvLine()
	fmt.Println(line)
	if *md != "" {
		if err := appendRow(*md, "| what | runs | median | min | max | peak RSS | exit |\n| --- | ---: | ---: | ---: | ---: | ---: | --- |\n", row); err != nil {
			return err
		}
	}
	if *tsv != "" {
		if err := appendRow(*tsv, "", line+"\n"); err != nil {
			return err
		}
	}
	if res.failed != "" {
		fmt.Fprintf(os.Stderr, "benchrun: %s: %s\n", res.label, res.failed)
		os.Exit(3)
	}
	return nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

func (r result) codesString() string {
	var cs []string
	for _, c := range r.codes {
		if !slices.Contains(cs, strconv.Itoa(c)) {
			cs = append(cs, strconv.Itoa(c))
		}
	}
	return strings.Join(cs, ",")
}

func (r result) markdown() string {
	if r.failed != "" && len(r.walls) == 0 {
		return fmt.Sprintf("| %s | 0 | failed: %s | | | | %s |\n", r.label, strings.ReplaceAll(r.failed, "|", "\\|"), r.codesString())
	}
	exit := r.codesString()
	if r.failed != "" {
		exit += "; then failed: " + strings.ReplaceAll(r.failed, "|", "\\|")
	}
	return fmt.Sprintf("| %s | %d | %s s | %s s | %s s | %.1f MiB | %s |\n",
		r.label, len(r.walls), secs(r.median), secs(r.lo), secs(r.hi), float64(r.peakKiB)/1024, exit)
}

func (r result) tsvLine() string {
	med := "NA"
	if len(r.walls) > 0 {
		med = secs(r.median)
	}
	return strings.Join([]string{r.label, med, secs(r.lo), secs(r.hi), strconv.FormatInt(r.peakKiB, 10), strconv.Itoa(len(r.walls)), r.codesString()}, "\t")
}

func appendRow(path, header, row string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() == 0 && header != "" {
		if _, err := f.WriteString(header); err != nil {
			return err
		}
	}
	_, err = f.WriteString(row)
	return err
}

// ---- findings --------------------------------------------------------------

func findings(args []string) error {
	if len(args) != 1 {
		usage()
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	var rep struct {
		Findings []struct {
			Control    string `json:"control"`
			Fixability string `json:"fixability"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		return fmt.Errorf("%s: not a kmend JSON report: %w", args[0], err)
	}
	by := map[string]int{}
	for _, f := range rep.Findings {
		by[f.Fixability]++
	}
	fmt.Printf("%d %d %d %d\n", len(rep.Findings), by["auto"], by["review"], by["manual"])
	return nil
}

// ---- formatting ------------------------------------------------------------

func formatting(args []string) error {
	if len(args) != 2 {
		usage()
	}
	orig, fixed := args[0], args[1]
	var changedFiles, lost, added, removed, changed int
	err := filepath.WalkDir(orig, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(orig, p)
		if err != nil {
			return err
		}
		a, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(fixed, rel))
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: missing after the fix", rel)
		}
		if err != nil {
			return err
		}
		if bytes.Equal(a, b) {
			return nil
		}
		changedFiles++
		al, bl := lines(a), lines(b)
		lost += formattingLost(al, bl)
		ad, rm, ch := diffSize(al, bl)
		added += ad
		removed += rm
		changed += ch
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Printf("%d %d %d %d %d\n", changedFiles, lost, added, removed, changed)
	return nil
}

// lines splits on "\n" only, so a "\r" stays part of its line.
func lines(b []byte) []string {
	s := string(b)
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func isFormatting(l string) bool {
	t := strings.TrimSpace(l)
	return t == "" || strings.HasPrefix(t, "#")
}

// formattingLost counts the comment and blank lines of a that b lacks,
// as multisets of exact lines.
func formattingLost(a, b []string) int {
	have := map[string]int{}
	for _, l := range b {
		if isFormatting(l) {
			have[l]++
		}
	}
	lost := 0
	for _, l := range a {
		if !isFormatting(l) {
			continue
		}
		if have[l] > 0 {
			have[l]--
		} else {
			lost++
		}
	}
	return lost
}

// diffSize returns the lines added and removed by a minimal line diff from
// a to b, and the lines changed, counting each hunk as max(added, removed).
func diffSize(a, b []string) (added, removed, changed int) {
	// trim the common prefix and suffix: fixes are local
	for len(a) > 0 && len(b) > 0 && a[0] == b[0] {
		a, b = a[1:], b[1:]
	}
	for len(a) > 0 && len(b) > 0 && a[len(a)-1] == b[len(b)-1] {
		a, b = a[:len(a)-1], b[:len(b)-1]
	}
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		return m, n, max(n, m)
	}
	// LCS table, (n+1)*(m+1)
	w := m + 1
	t := make([]int32, (n+1)*w)
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				t[i*w+j] = t[(i+1)*w+j+1] + 1
			} else {
				t[i*w+j] = max(t[(i+1)*w+j], t[i*w+j+1])
			}
		}
	}
	i, j := 0, 0
	hunkAdd, hunkDel := 0, 0
	flush := func() {
		changed += max(hunkAdd, hunkDel)
		hunkAdd, hunkDel = 0, 0
	}
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			flush()
			i++
			j++
		case j < m && (i == n || t[i*w+j+1] >= t[(i+1)*w+j]):
			added++
			hunkAdd++
			j++
		default:
			removed++
			hunkDel++
			i++
		}
	}
	flush()
	return added, removed, changed
}
