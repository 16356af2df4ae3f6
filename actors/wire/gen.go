package wire

// The generated code (*.pb.go) is committed: building dopasim needs no
// protoc. To regenerate after editing a .proto file, with protoc installed
// (3.21.12 was used; Debian: apt-get install protobuf-compiler), run
// go generate ./... from the module root. protoc-gen-go is built from the
// google.golang.org/protobuf version in go.mod, so the generated code always
// matches the runtime.
//go:generate sh -c "set -e; d=$(mktemp -d); trap 'rm -rf $d' EXIT; go build -o $d/protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go; protoc --plugin=protoc-gen-go=$d/protoc-gen-go -I . -I $(go list -m -f '{{.Dir}}' github.com/asynkron/protoactor-go)/actor --go_out=. --go_opt=paths=source_relative --go_opt=Mactor.proto=github.com/asynkron/protoactor-go/actor handshake.proto wire.proto"
