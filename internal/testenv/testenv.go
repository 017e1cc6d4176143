// Package testenv decides what a test does when something it needs is
// missing: skip with a message under `make test` on a machine with only Go,
// fail under CI, where FLUXHUNT_REQUIRE_ALL_TESTS=1 and everything is
// installed.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// RequireAll reports whether a missing dependency must fail the test.
func RequireAll() bool { return os.Getenv("FLUXHUNT_REQUIRE_ALL_TESTS") == "1" }

// Missing skips t (or fails it under FLUXHUNT_REQUIRE_ALL_TESTS=1) saying
// what is missing.
func Missing(t testing.TB, what string) {
	t.Helper()
	if RequireAll() {
		t.Fatalf("missing %s (FLUXHUNT_REQUIRE_ALL_TESTS=1: .ci/run must install it)", what)
	}
	t.Skipf("skipping: %s is missing (install it, or run .ci/run)", what)
}

// Command returns the path of an executable, or skips/fails when absent.
func Command(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "the command "+name)
	}
	return p
}

// RepoRoot is the module root (the directory holding go.mod).
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testenv: cannot find source location")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Shared returns the path of ../shared (or $FLUXHUNT_SHARED), skipping or
// failing when it is absent.
func Shared(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("FLUXHUNT_SHARED")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "..", "shared")
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err != nil {
		Missing(t, "../shared (the shared data directory; set FLUXHUNT_SHARED to point elsewhere)")
	}
	return dir
}

// Short skips long-running tests under -short.
func Short(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping in -short mode")
	}
}
