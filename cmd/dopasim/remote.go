package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/dopasim/dopasim/actors"
	"github.com/dopasim/dopasim/actors/remote"
	"github.com/dopasim/dopasim/actors/wire"
)

// remoteFlags are the transport flags of dopasim node and of a run with
// --nodes (docs/scale-out.md).
type remoteFlags struct {
	listen                  string
	tlsCert, tlsKey, tlsCA  string
	insecure                bool
	tokenFile               string
	set                     func(name string) bool
	defaultListen, nodeHelp string
}

func bindRemoteFlags(fs *flag.FlagSet, defaultListen, listenHelp string) *remoteFlags {
	r := &remoteFlags{defaultListen: defaultListen}
	fs.StringVar(&r.listen, "listen", defaultListen, listenHelp)
	fs.StringVar(&r.tlsCert, "tls-cert", "", "PEM certificate of this process, for mutual TLS with its peers (with --tls-key and --tls-ca)")
	fs.StringVar(&r.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&r.tlsCA, "tls-ca", "", "PEM certificate(s) of the authority that signs every peer's certificate")
	fs.BoolVar(&r.insecure, "insecure", false, "allow plaintext on an address other than loopback (anyone who can connect can run actors here)")
	fs.StringVar(&r.tokenFile, "token-file", "", "file holding the nodes' shared secret (at least 16 bytes, readable by its owner only): a node refuses coordinators without it")
	return r
}

// Bounds on a token file's secret, in bytes (surrounding white space is
// not part of it).
const (
	minToken = 16
	maxToken = 4096
)

// readToken reads the shared secret of --token-file. The secret is never
// given on the command line, where other users can read it; the file must be
// a regular file of this user's that no other user can read or write. The
// checks are made on the file opened (a link is followed), not on its name,
// so the file cannot be swapped between check and read.
func readToken(path string) ([]byte, error) {
	f, err := openRegular("--token-file", path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, usagef("--token-file: %v", err)
	}
	if !st.Mode().IsRegular() {
		return nil, usagef("--token-file %s: %s, not a regular file", path, fileKind(st.Mode()))
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, usagef("--token-file %s: other users may read or write it (mode %04o); chmod 600 it", path, perm)
	}
	if mine, ok := ownedByMe(st); ok && !mine {
		return nil, usagef("--token-file %s: owned by another user, who knows the secret; use a file of your own", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxToken+1))
	if err != nil {
		return nil, usagef("--token-file: %v", err)
	}
	if len(b) > maxToken {
		return nil, usagef("--token-file %s: longer than %d bytes; a token is a short secret", path, maxToken)
	}
	token := bytes.TrimSpace(b)
	if len(token) < minToken {
		return nil, usagef("--token-file %s: the secret is %d bytes, want at least %d (e.g. head -c 32 /dev/urandom | base64 > %s)", path, len(token), minToken, path)
	}
	return token, nil
}

// resolve checks the flags and returns the transport options. warn gets
// the warning of --insecure on a non-loopback address.
func (r *remoteFlags) resolve(warn func(string)) (remote.Options, error) {
	opt := remote.Options{Listen: r.listen}
	host, port, err := net.SplitHostPort(r.listen)
	if err != nil {
		return opt, usagef("--listen %q: want host:port (%v)", r.listen, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return opt, usagef("--listen %q: port %q is not a number from 0 to 65535", r.listen, port)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return opt, usagef("--listen %q: give the address the peers use to reach this process (it is also where they reply), not an unspecified one", r.listen)
	}
	files := 0
	for _, f := range []string{r.tlsCert, r.tlsKey, r.tlsCA} {
		if f != "" {
			files++
		}
	}
	switch {
	case files != 0 && files != 3:
		return opt, usagef("--tls-cert, --tls-key and --tls-ca go together (mutual TLS needs all three)")
	case files == 3 && r.insecure:
		return opt, usagef("--insecure and --tls-*: choose one")
	case files == 3:
		cfg, err := loadTLS(r.tlsCert, r.tlsKey, r.tlsCA)
		if err != nil {
			return opt, usagef("%v", err)
		}
		opt.TLS = cfg
	case !isLoopback(host) && !r.insecure:
		return opt, usagef("--listen %s is not a loopback address: give --tls-cert, --tls-key and --tls-ca (mutual TLS), or --insecure to accept anyone who can connect", r.listen)
	case !isLoopback(host):
		warn(fmt.Sprintf("warning: listening on %s without TLS (--insecure): anyone who can connect can place actors here and read the run", r.listen))
	}
	if r.tokenFile != "" {
		if opt.Token, err = readToken(r.tokenFile); err != nil {
			return opt, err
		}
	}
	return opt, nil
}

// isLoopback reports whether host is a loopback name or address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loadTLS builds the mutual-TLS configuration: the same certificate serves
// and dials, and every peer must present one signed by the CA.
func loadTLS(certFile, keyFile, caFile string) (*remote.TLSConfig, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert/--tls-key: %v", err)
	}
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-ca: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("--tls-ca %s: no PEM certificate in it", caFile)
	}
	return &remote.TLSConfig{
		Server: &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS13},
		Client: &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS13},
	}, nil
}

// parseNodes reads --nodes: host:port[,host:port…], each once.
func parseNodes(s string) ([]string, error) {
	var nodes []string
	seen := map[string]bool{}
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		host, port, err := net.SplitHostPort(n)
		if err != nil || host == "" {
			return nil, fmt.Errorf("%q is not host:port", n)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("%q: port %q is not a number from 1 to 65535", n, port)
		}
		if seen[n] {
			return nil, fmt.Errorf("%s is listed twice", n)
		}
		seen[n] = true
		nodes = append(nodes, n)
	}
	return nodes, nil
}

const nodeUsage = `usage: dopasim node [flags]

Starts a worker node that hosts neuron actors for coordinators (dopasim xor
--nodes …), until interrupted. It listens on loopback unless told otherwise;
any other address needs mutual TLS (--tls-cert, --tls-key, --tls-ca) or
--insecure. With --token-file, only coordinators given the same file may
place neurons (without it, any local user may). One coordinator may have at
most --max-neurons neurons and --max-synapses synapses placed at a time,
and all of them together at most --max-memory (estimated).
See docs/scale-out.md.

Flags:
`

func cmdNode(e *env, args []string) error {
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	rf := bindRemoteFlags(fs, "127.0.0.1:7400", "host:port to listen on (the address coordinators give in --nodes)")
	dispatcher := fs.String("dispatcher", "inline", "how the hosted neurons are scheduled: inline, pool (one worker per CPU: a wide layer computes on every core) or goroutine")
	verbose := fs.Bool("v", false, "show protoactor's diagnostics on stderr")
	maxNeurons := fs.Int("max-neurons", remote.DefaultPeerLimits.Neurons, "most neurons one coordinator may have placed here at a time")
	maxSynapses := fs.Int("max-synapses", remote.DefaultPeerLimits.Synapses, "most synapses (parameters: weights and biases) one coordinator may have placed here at a time")
	maxMemory := fs.String("max-memory", "", "memory all the neurons placed here may take, such as 8GiB (default: half the machine's); a placement estimated past it is refused")
	fs.SetOutput(nilWriter{})
	if err := fs.Parse(args); err != nil {
		return parseError(e, fs, err, nodeUsage, "node")
	}
	if fs.NArg() > 0 {
		return usagef("node: unexpected argument %q", fs.Arg(0))
	}
	opt, err := rf.resolve(func(w string) { fmt.Fprintln(e.stderr, "dopasim node: "+w) })
	if err != nil {
		return err
	}
	if opt.Dispatcher, err = actors.ParseDispatcher(*dispatcher); err != nil {
		return usagef("--dispatcher: %v", err)
	}
	if *maxNeurons < 1 || *maxSynapses < 1 {
		return usagef("--max-neurons and --max-synapses must be at least 1 (got %d and %d)", *maxNeurons, *maxSynapses)
	}
	opt.PeerLimits = remote.PeerLimits{Neurons: *maxNeurons, Synapses: *maxSynapses}
	opt.MaxBytes = defaultMaxMemory()
	if *maxMemory != "" {
		if opt.MaxBytes, err = parseBytes(*maxMemory); err != nil {
			return usagef("--max-memory: %v", err)
		}
	}
	opt.Refused = func(reason string) { fmt.Fprintln(e.stderr, "dopasim node: refused "+reason) }
	if *verbose {
		opt.Logger = newLogger(e.stderr, true)
	}
	node, err := remote.StartNode(opt)
	if err != nil {
		return err
	}
	access := "only coordinators with its --token-file may place neurons"
	switch {
	case opt.TLS != nil && opt.Token == nil:
		access = "mutual TLS"
	case opt.TLS != nil:
		access = "mutual TLS and a token"
	case opt.Token == nil:
		access = "no TLS and no --token-file: any local user may place neurons"
	}
	fmt.Fprintf(e.stderr, "dopasim node: listening on %s (%s; wire version %s, neuron arithmetic %s); Ctrl-C stops it\n", node.Addr(), access, wire.Version(), remote.Numerics())
	<-e.ctx.Done()
	node.Close()
	if d := node.Dropped(); d > 0 {
		fmt.Fprintf(e.stderr, "dopasim node: dropped %d messages it could not take (unknown type, another name for it, or not allowed from their peer)\n", d)
	}
	fmt.Fprintln(e.stderr, "dopasim node: stopped")
	return nil
}

// nilWriter discards the flag package's own messages (parseError reports).
type nilWriter struct{}

func (nilWriter) Write(p []byte) (int, error) { return len(p), nil }
