package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/dopasim/dopasim/actors/remote"
)

const usage = `dopasim: neurons as actors, learning from a broadcast dopamine signal

usage:
  dopasim xor [flags]     train a 2-H-1 MLP on XOR (one or many seeds)
  dopasim chaos [flags]   train a recurrent network to forecast a chaotic series
  dopasim sweep [flags]   run a grid of settings over many seeds, one row per point
  dopasim compare [flags] run several optimizers (dopamine, wp, sgd, adam) on the same seeds,
                          with their costs; --plot draws the learning curves
  dopasim rerun FILE      repeat the run whose --json output is FILE and check its weights digests
  dopasim predict [flags] forecast a series with a network saved by chaos --save (CSV out)
  dopasim eval [flags]    run a network saved by xor --save on the four XOR patterns
  dopasim logs <command>  inspect a message log (--log): summary, filter, weights, diff, trace
  dopasim node [flags]    host neuron actors for runs on other processes (--nodes)
  dopasim version         print the version and VCS revision of this build (also --version)
  dopasim help            print this text

Run "dopasim <command> -h" for a command's flags. Exit status: 0 on success,
2 for bad usage or data, 1 for a failure while running.
`

// usageError is bad input from the user: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// errHelp means -h was given: usage was printed, exit status 0.
var errHelp = errors.New("help")

func main() {
	// The first SIGINT or SIGTERM asks the runs to stop cleanly; after it the
	// default handling is back, so a second one ends the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	remote.Program = "dopasim " + version() // names this build in the scale-out handshake's errors
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, isTerminal(os.Stderr))
	stop()
	// Some file systems report a failed write only when the file is closed.
	if err := os.Stdout.Close(); err != nil && code == 0 {
		fmt.Fprintf(os.Stderr, "dopasim: writing the results to standard output: %v\n", err)
		code = 1
	}
	os.Exit(code)
}

// run executes one command line and returns the exit status. Everything it
// prints goes to stdout (results) and stderr (progress, diagnostics, errors).
// A panic on its goroutine is a bug: it is reported in one line, as a
// failure at run time, instead of a stack trace.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, tty bool) int {
	return runIn(&env{ctx: ctx, stdout: stdout, stderr: stderr, tty: tty}, args)
}

// runIn is run in a given environment, whose stdout it checks.
func runIn(e *env, args []string) (code int) {
	stderr := e.stderr
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "dopasim: internal error (a bug; please report it with the command line): %v\n", r)
			code = 1
		}
	}()
	if len(args) == 0 {
		fmt.Fprintln(stderr, `dopasim: no command (want xor, chaos, sweep, compare, rerun, predict, eval, logs, node, version or help; "dopasim help" lists them)`)
		return 2
	}
	var err error
	out := &checkedWriter{w: e.stdout}
	env := &env{ctx: e.ctx, stdout: out, stderr: stderr, tty: e.tty, seedDone: e.seedDone}
	switch cmd := args[0]; cmd {
	case "xor":
		err = cmdXOR(env, args[1:])
	case "sweep":
		err = cmdSweep(env, args[1:])
	case "compare":
		err = cmdCompare(env, args[1:])
	case "chaos":
		err = cmdChaos(env, args[1:])
	case "rerun":
		err = cmdRerun(env, args[1:])
	case "predict":
		err = cmdPredict(env, args[1:])
	case "eval":
		err = cmdEval(env, args[1:])
	case "logs":
		err = cmdLogs(env, args[1:])
	case "node":
		err = cmdNode(env, args[1:])
	case "version", "--version", "-version":
		fmt.Fprintln(out, versionLine())
	case "help", "-h", "-help", "--help":
		fmt.Fprint(out, usage)
	default:
		err = usagef("unknown command %q (want xor, chaos, sweep, compare, rerun, predict, eval, logs, node, version or help)", cmd)
	}
	var ue *usageError
	var status exitStatus
	switch {
	case errors.As(err, &status): // reported already (rerun's repeat)
		return status.code
	case out.failed() != nil && !errors.As(err, &ue):
		// Whatever else went wrong, the results are not where the user
		// looks for them: say that, once.
		fmt.Fprintf(stderr, "dopasim: writing the results to standard output: %v\n", out.failed())
		return 1
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "dopasim: %s\n", ue.msg)
		return 2
	default:
		fmt.Fprintf(stderr, "dopasim: %v\n", err)
		return 1
	}
}

// checkedWriter keeps the first error of its writer and fails every write
// after it, so that a command whose results could not be written (a full
// disk, /dev/full, a closed pipe) ends with that error rather than exit
// status 0. Safe for concurrent use.
type checkedWriter struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	c.err = err
	return n, err
}

// failed returns the first write error, or nil.
func (c *checkedWriter) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// env is what a command may touch of the outside world.
type env struct {
	ctx            context.Context
	stdout, stderr io.Writer
	tty            bool // stderr is a terminal: show progress
	// seedDone, when set, is called on an engine goroutine after each seed
	// of a batch has finished: tests interrupt a batch at a known point.
	seedDone func(seed uint64)
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
