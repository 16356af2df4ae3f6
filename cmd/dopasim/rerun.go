package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

const rerunUsage = `usage: dopasim rerun FILE [flags]

Repeats the xor or chaos run whose --json output is in FILE, from the
command line recorded in it (config.args), and checks that every seed ends
with the same weights digest. Flags given after FILE are added to that
command line and win over its own (so "--engine reference" repeats an
actors run in the reference engine). Output files of the first run
(--log, --log-level, --plot, --save, --out) are not written again. It prints one
line per seed and exits 0 when every digest matches, 1 when one does not.

`

// rerunDropped are the flags of the recorded command line that write files
// (and --json, which rerun sets itself): a rerun does not overwrite them.
var rerunDropped = []string{"log", "log-level", "plot", "save", "out", "json"}

// recordedRun is what rerun reads of a --json report.
type recordedRun struct {
	Config struct {
		Args []string `json:"args"`
	} `json:"config"`
	Runs []recordedSeed `json:"runs"`
}

// recordedSeed is one seed's run in a report.
type recordedSeed struct {
	Seed   uint64 `json:"seed"`
	Digest string `json:"weights_digest"`
}

// maxReportBytes bounds a --json report rerun reads.
const maxReportBytes = 256 << 20

// cmdRerun is dopasim rerun.
func cmdRerun(e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		if len(args) == 0 {
			return usagef("rerun: give the --json output of a run (usage: dopasim rerun FILE [flags])")
		}
		fmt.Fprint(e.stdout, rerunUsage)
		return errHelp
	}
	rec, err := readRecorded(args[0])
	if err != nil {
		return err
	}
	cmdLine := append(dropFlags(rec.Config.Args[1:], rerunDropped), args[1:]...)
	cmdLine = append(append([]string{rec.Config.Args[0]}, cmdLine...), "--json")
	var out bytes.Buffer
	sub := &env{ctx: e.ctx, stdout: &out, stderr: e.stderr, tty: e.tty}
	if code := runIn(sub, cmdLine); code != 0 {
		return exitStatus{code}
	}
	var again recordedRun
	if err := json.Unmarshal(out.Bytes(), &again); err != nil {
		return fmt.Errorf("rerun: reading the repeated run's report: %v", err)
	}
	return compareDigests(e.stdout, strings.Join(cmdLine, " "), rec, again)
}

// readRecorded reads a run's --json report and checks it can be repeated.
func readRecorded(path string) (recordedRun, error) {
	var rec recordedRun
	f, err := openRegular("rerun", path)
	if err != nil {
		return rec, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxReportBytes))
	if err != nil {
		return rec, usagef("rerun %s: %v", path, err)
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return rec, usagef("rerun %s: not the --json output of a run (%v)", path, err)
	}
	switch a := rec.Config.Args; {
	case len(a) == 0:
		return rec, usagef("rerun %s: no config.args: not the --json output of an xor or chaos run (or of a dopasim older than rerun)", path)
	case a[0] != "xor" && a[0] != "chaos":
		return rec, usagef("rerun %s: a %s report; rerun repeats xor and chaos runs", path, a[0])
	case len(rec.Runs) == 0:
		return rec, usagef("rerun %s: no runs recorded", path)
	}
	return rec, nil
}

// compareDigests prints one line per recorded seed and fails if a digest
// differs or a seed is missing from the repeat.
func compareDigests(w io.Writer, cmdLine string, rec, again recordedRun) error {
	fmt.Fprintf(w, "rerun: dopasim %s\n", cmdLine)
	bad := 0
	for _, r := range rec.Runs {
		i := slices.IndexFunc(again.Runs, func(a recordedSeed) bool { return a.Seed == r.Seed })
		switch {
		case i < 0:
			fmt.Fprintf(w, "seed %d: not run again\n", r.Seed)
			bad++
		case again.Runs[i].Digest != r.Digest:
			fmt.Fprintf(w, "seed %d: digest %s, recorded %s: DIFFERENT\n", r.Seed, again.Runs[i].Digest, r.Digest)
			bad++
		default:
			fmt.Fprintf(w, "seed %d: digest %s, as recorded\n", r.Seed, r.Digest)
		}
	}
	if bad > 0 {
		return fmt.Errorf("rerun: %d of %d seeds did not end with their recorded weights", bad, len(rec.Runs))
	}
	fmt.Fprintf(w, "rerun: all %d seeds end with their recorded weights\n", len(rec.Runs))
	return nil
}

// dropFlags removes the named flags, and their values, from a command
// line (as -name, --name, -name=v or --name v).
func dropFlags(args, names []string) []string {
	isBool := map[string]bool{"json": true}
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || !slices.Contains(names, name) {
			out = append(out, a)
			continue
		}
		if !hasValue && !isBool[name] && i+1 < len(args) {
			i++ // its value
		}
	}
	return out
}

// exitStatus is a command that already reported its failure: its status
// passes through (rerun of a run that fails).
type exitStatus struct{ code int }

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", e.code) }
