package remote

import (
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	protoremote "github.com/asynkron/protoactor-go/remote"
	"github.com/dopasim/dopasim/actors"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
)

// The transport of scale-out: protoactor's remote with this package's
// guard, keepalives and (optionally) mutual TLS, for nodes and
// coordinators alike (docs/scale-out.md).

// Options are the transport settings of a node or a coordinator.
type Options struct {
	// Listen is the host:port to listen on (port 0: any free port). The
	// host must be one the peers can reach: it is also the address they
	// reply to.
	Listen string
	// TLS, if set, secures every connection with mutual TLS: it is used
	// both to accept (it must require and verify client certificates) and
	// to dial (with its own certificate). Nil: plaintext.
	TLS *TLSConfig
	// Dispatcher schedules the neurons a node hosts.
	Dispatcher actors.Dispatcher
	// Refused, if set, is told about each coordinator a node refuses at
	// the handshake (a node, or an Engine, may run without a terminal).
	Refused func(reason string)
	// Logger receives protoactor's own log lines (nil: discarded).
	Logger *zap.Logger
	// Token, if set, is a shared secret, which each side proves it holds
	// without sending it (token.go): a node with one refuses every
	// placement and removal from a coordinator that cannot, and a
	// coordinator with one places nothing on a node that cannot. Without
	// TLS it keeps other local users from placing neurons, feeding runs (a
	// run's actor names are unguessable, and learnt only from a placement)
	// or posing as a node.
	Token []byte
	// PeerLimits bound what one coordinator may place on a node (a node's
	// option; the zero value is DefaultPeerLimits).
	PeerLimits PeerLimits
	// MaxBytes bounds the memory, in bytes, that all the neurons placed on
	// a node at a time may take, as placedBytes estimates it from their
	// placements (a node's option; 0: no bound). A coordinator names its
	// own address, so only this bound holds whoever places.
	MaxBytes uint64
}

// TLSConfig is a mutual-TLS setup: Server accepts connections, Client dials.
type TLSConfig struct {
	Server, Client *tls.Config
}

// keepalive settings: a peer that stops answering is noticed after about
// keepaliveTime + keepaliveTimeout (gRPC does not ping more often than every
// 10 s).
const (
	keepaliveTime    = 10 * time.Second
	keepaliveTimeout = 5 * time.Second
)

// startRemote starts protoactor's remote on sys; acc (nil: none) decides
// what peers with a TLS certificate may send it. It returns the guard of its
// connections.
func startRemote(sys *actor.ActorSystem, opt Options, acc *access) (*protoremote.Remote, *guard, error) {
	host, portText, err := net.SplitHostPort(opt.Listen)
	if err != nil {
		return nil, nil, fmt.Errorf("listen address %q: %v", opt.Listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return nil, nil, fmt.Errorf("listen address %q: bad port", opt.Listen)
	}
	// protoactor's Start logs and returns on a failed listen; check first.
	l, err := net.Listen("tcp", opt.Listen)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on %s: %v", opt.Listen, err)
	}
	if port == 0 {
		port = l.Addr().(*net.TCPAddr).Port
	}
	l.Close()
	if opt.TLS != nil && (opt.TLS.Server == nil || opt.TLS.Client == nil || opt.TLS.Server.ClientAuth != tls.RequireAndVerifyClientCert) {
		return nil, nil, fmt.Errorf("TLS: want a client and a server side, the server requiring and verifying client certificates (mutual TLS)")
	}
	g := &guard{self: sys.Address, access: acc, tls: opt.TLS != nil}
	server := append(g.serverOptions(), grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: keepaliveTime / 2, PermitWithoutStream: true}))
	dial := []grpc.DialOption{grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: keepaliveTime, Timeout: keepaliveTimeout, PermitWithoutStream: true})}
	if opt.TLS != nil {
		server = append(server, grpc.Creds(credentials.NewTLS(opt.TLS.Server)))
		dial = append(dial, grpc.WithTransportCredentials(credentials.NewTLS(opt.TLS.Client)))
	} else {
		dial = append(dial, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	// protoactor joins host and port with a colon: an IPv6 host needs its
	// brackets, or its listen fails on "too many colons".
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	cfg := protoremote.Configure(host, port, protoremote.WithServerOptions(server...), protoremote.WithDialOptions(dial...))
	// A send to a dead node is retried this many times, 2 s apart, before
	// it becomes a dead letter.
	cfg.MaxRetryCount = 1
	r := protoremote.NewRemote(sys, cfg)
	r.Start()
	return r, g, nil
}

// shutdownRemote stops a remote, within shutdownTimeout. The pinned
// protoactor's graceful shutdown panics when a peer's connection already
// ended with an error (it sends on the connection's closed channel), and
// waits for ever for an endpoint to a peer that hangs; in either case the
// server is stopped without the graceful part (and a goroutine stuck in the
// graceful part is left behind).
func shutdownRemote(r *protoremote.Remote) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if recover() != nil {
				r.Shutdown(false)
			}
		}()
		r.Shutdown(true)
	}()
	select {
	case <-done:
	case <-time.After(shutdownTimeout):
		r.Shutdown(false)
	}
}

// shutdownTimeout bounds a remote's graceful shutdown.
const shutdownTimeout = 5 * time.Second
