// Package remote is dopasim's scale-out: it puts the neurons of a run in
// other processes and hosts them there, over protoactor's remote (gRPC).
//
// A Node (StartNode, dopasim node) hosts neurons for coordinators that ask;
// a Coordinator is the actors.Placer of one Engine (actors.Options.Placer),
// which keeps the environment and the dopamine actor in its own process
// and places the neurons on its nodes by a Placement (coordinator.go). The
// messages between processes are the protobuf types of package wire, into
// which a codec middleware (codec.go) converts the run's own messages at
// each process's edge; the neurons themselves are package actors' shells,
// built by an actors.Host.
//
// What crosses is checked. A gRPC interceptor (guard.go) drops what a peer
// must not deliver: unknown types, other names, and with mutual TLS
// whatever its certificate's hosts may not send (access.go). The handshake
// compares wire versions and the neurons' arithmetic (numerics.go) and,
// with a token, proves each side holds it (token.go); a node decodes,
// checks and bounds what it hosts (placement.go). transport.go starts and
// stops protoactor's remote with keepalives and optional mutual TLS.
//
// It may not decide what a message brings about (package protocol's cores
// do), define actor shells (package actors does), or be imported by package
// actors: the import points from here to there.
package remote
