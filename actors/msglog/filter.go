package msglog

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
)

// TrialRange is an inclusive range of trial numbers.
type TrialRange struct {
	Lo, Hi uint64
}

// ParseTrialRange parses "N" (that trial), "N..M" (N to M inclusive, N ≤ M),
// "N.." (N and after) or "..M" (up to M), with whole numbers from 0 to
// 2^64−1 and optional spaces around them.
func ParseTrialRange(s string) (TrialRange, error) {
	num := func(part, what string) (uint64, error) {
		part = strings.TrimSpace(part)
		n, err := strconv.ParseUint(part, 10, 64)
		if err != nil || part == "" || part[0] == '+' {
			return 0, fmt.Errorf("trial range %q: %s %q is not a whole number from 0 to 2^64-1", s, what, part)
		}
		return n, nil
	}
	lo, hi, isRange := strings.Cut(s, "..")
	if !isRange {
		n, err := num(lo, "trial")
		return TrialRange{n, n}, err
	}
	r := TrialRange{0, math.MaxUint64}
	if strings.TrimSpace(lo) == "" && strings.TrimSpace(hi) == "" {
		return TrialRange{}, fmt.Errorf("trial range %q: give N, N..M, N.. or ..M", s)
	}
	var err error
	if strings.TrimSpace(lo) != "" {
		if r.Lo, err = num(lo, "start"); err != nil {
			return TrialRange{}, err
		}
	}
	if strings.TrimSpace(hi) != "" {
		if r.Hi, err = num(hi, "end"); err != nil {
			return TrialRange{}, err
		}
	}
	if r.Lo > r.Hi {
		return TrialRange{}, fmt.Errorf("trial range %q: start %d is after end %d", s, r.Lo, r.Hi)
	}
	return r, nil
}

// Contains reports whether trial t is in the range.
func (r TrialRange) Contains(t uint64) bool { return r.Lo <= t && t <= r.Hi }

// String returns the range in the form ParseTrialRange reads.
func (r TrialRange) String() string {
	switch {
	case r.Lo == r.Hi:
		return strconv.FormatUint(r.Lo, 10)
	case r.Hi == math.MaxUint64:
		return fmt.Sprintf("%d..", r.Lo)
	case r.Lo == 0:
		return fmt.Sprintf("..%d", r.Hi)
	}
	return fmt.Sprintf("%d..%d", r.Lo, r.Hi)
}

// Filter selects records. The zero Filter matches every record; each set
// condition must hold.
type Filter struct {
	// Kinds are the kinds to keep; empty keeps every kind.
	Kinds []string
	// Run, From and To are an exact name or a path.Match pattern ("*" does
	// not cross a "/": neurons are "neuron/*/*"); empty matches anything. A
	// record without "from" (or "to") never matches a non-empty From (or To).
	Run, From, To string
	// Trials, if not nil, keeps the records whose trial is in the range; a
	// record without "trial" never matches.
	Trials *TrialRange
}

// Check returns an error for an unknown kind or a malformed pattern.
func (f *Filter) Check() error {
	for _, k := range f.Kinds {
		if kindName(k) == "" {
			return fmt.Errorf("unknown kind %q (want %s)", k, strings.Join(Kinds(), ", "))
		}
	}
	for _, p := range []struct{ name, pattern string }{{"run", f.Run}, {"from", f.From}, {"to", f.To}} {
		if _, err := path.Match(p.pattern, ""); err != nil {
			return fmt.Errorf("%s pattern %q: %v", p.name, p.pattern, err)
		}
	}
	return nil
}

// Match reports whether rec passes the filter. A malformed pattern matches
// nothing (Check reports it).
func (f *Filter) Match(rec *Record) bool {
	if len(f.Kinds) > 0 && !slices.Contains(f.Kinds, rec.Kind) {
		return false
	}
	if f.Trials != nil && (!rec.HasTrial || !f.Trials.Contains(rec.Trial)) {
		return false
	}
	return matchName(f.Run, rec.Run) && matchName(f.From, rec.From) && matchName(f.To, rec.To)
}

// matchName reports whether name matches pattern; an empty pattern matches
// anything, an empty name (an absent field) only the empty pattern.
func matchName(pattern, name string) bool {
	switch {
	case pattern == "":
		return true
	case name == "":
		return false
	case !strings.ContainsAny(pattern, `*?[\`):
		return pattern == name
	}
	ok, _ := path.Match(pattern, name)
	return ok
}

// Copy writes every record of r that matches to w, each line exactly as read
// followed by a newline, and returns how many it wrote. Lines that are not
// records are skipped (passed to r.Warn). The error is a read or write error.
func (f *Filter) Copy(w io.Writer, r *Reader) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	n := 0
	for {
		rec, err := r.NextValid()
		if err == io.EOF {
			break
		}
		if err != nil {
			bw.Flush() // what matched so far is written; the read error wins
			return n, err
		}
		if !f.Match(rec) {
			continue
		}
		bw.Write(rec.Raw)
		if err := bw.WriteByte('\n'); err != nil {
			return n, err
		}
		n++
	}
	return n, bw.Flush()
}
