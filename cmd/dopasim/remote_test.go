//go:build !race

// Remote tests build without -race (protoactor's remote races on gRPC's
// global logger); the README's test command runs them in a second pass.

package main

import (
	"strings"
	"testing"

	"github.com/dopasim/dopasim/actors"
)

// dopasim xor --nodes gives the same weights digest as the same run in one
// process.
func TestRemoteXORSameDigest(t *testing.T) {
	var nodes []string
	for range 2 {
		n, err := actors.StartNode(actors.RemoteOptions{Listen: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		nodes = append(nodes, n.Addr())
	}
	digest := func(args ...string) string {
		t.Helper()
		code, out, errOut := dopasim(t, append([]string{"xor", "--seed", "7"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		for _, line := range strings.Split(out, "\n") {
			if d, ok := strings.CutPrefix(line, "weights digest: "); ok {
				return d
			}
		}
		t.Fatalf("%v: no digest in %q", args, out)
		return ""
	}
	local := digest()
	for _, placement := range []string{"round-robin", "layer"} {
		if got := digest("--nodes", strings.Join(nodes, ","), "--placement", placement); got != local {
			t.Errorf("--placement %s: digest %s, want %s (one process)", placement, got, local)
		}
	}
}
