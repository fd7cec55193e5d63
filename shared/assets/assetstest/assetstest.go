// Package assetstest finds the fetched assets for tests, skipping loudly
// when `make assets` has not run, except under CI, where it fails.
package assetstest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Missing skips the test, loudly, or fails it under CI.
func Missing(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s: %v; CI runs `make assets` first", what, err)
	}
	t.Skipf("!!! SKIPPED: %s: %v; run `make assets` (or set IGEMOJI_NPM_CACHE) to run this test !!!", what, err)
}

// NPMDir is the npm cache fetch.sh fills: IGEMOJI_NPM_CACHE, or .cache/npm
// at the repository root.
func NPMDir() string {
	if dir := os.Getenv("IGEMOJI_NPM_CACHE"); dir != "" {
		return dir
	}
	_, file, _, _ := runtime.Caller(0) // shared/assets/assetstest/assetstest.go
	return filepath.Join(filepath.Dir(file), "..", "..", "..", ".cache", "npm")
}

// NPMFile returns path inside the npm cache, or skips (fails under CI).
func NPMFile(t testing.TB, path string) string {
	t.Helper()
	file := filepath.Join(NPMDir(), filepath.FromSlash(path))
	if _, err := os.Stat(file); err != nil {
		Missing(t, "npm package file not fetched", err)
	}
	return file
}
