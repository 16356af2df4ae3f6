//go:build !race

// Remote tests build without -race (protoactor's remote races on gRPC's
// global logger); the README's test command runs them in a second pass.

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dopasim/dopasim/actors/remote"
)

// dopasim xor --nodes gives the same weights digest, and writes the same
// message log, as the same run in one process.
func TestRemoteXORSameDigest(t *testing.T) {
	var nodes []string
	for range 2 {
		n, err := remote.StartNode(remote.Options{Listen: "127.0.0.1:0"})
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
	dir := t.TempDir()
	logOf := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	local := digest("--log", filepath.Join(dir, "local.jsonl"), "--log-level", "all")
	for _, placement := range []string{"round-robin", "layer"} {
		log := placement + ".jsonl"
		if got := digest("--nodes", strings.Join(nodes, ","), "--placement", placement, "--log", filepath.Join(dir, log), "--log-level", "all"); got != local {
			t.Errorf("--placement %s: digest %s, want %s (one process)", placement, got, local)
		}
		if !bytes.Equal(logOf(log), logOf("local.jsonl")) {
			t.Errorf("--placement %s: the message log differs from the one of one process", placement)
		}
	}
}

// A node started with --token-file takes only a coordinator given the same
// file: without it the run fails with one line that says so; with it the
// digest is the one of one process.
func TestRemoteTokenFile(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "node.token")
	if err := os.WriteFile(tokenFile, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	token, err := readToken(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	n, err := remote.StartNode(remote.Options{Listen: "127.0.0.1:0", Token: token})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	code, _, errs := dopasim(t, "xor", "--nodes", n.Addr())
	if code != 1 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "give the coordinator the same --token-file") {
		t.Errorf("without the token: exit %d, stderr %q", code, errs)
	}
	_, local, _ := dopasim(t, "xor", "--json")
	code, remote, errs := dopasim(t, "xor", "--json", "--nodes", n.Addr(), "--token-file", tokenFile)
	if code != 0 || jsonObject(t, remote)["weights_digest"] != jsonObject(t, local)["weights_digest"] {
		t.Errorf("with the token: exit %d (%s), digest %v, want %v", code, errs, jsonObject(t, remote)["weights_digest"], jsonObject(t, local)["weights_digest"])
	}
}
