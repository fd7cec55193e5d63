// Package s3test starts a real S3-protocol server (gofakes3, in memory) on
// a loopback port for tests: the adapter talks HTTP and signs its requests
// as it would to AWS or MinIO.
package s3test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Start serves an empty store until the test ends and returns its blob URL
// for the given bucket (s3+http://KEY:SECRET@127.0.0.1:PORT/bucket).
func Start(t testing.TB, bucket string) string {
	t.Helper()
	srv := httptest.NewServer(gofakes3.New(s3mem.New(), gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	t.Cleanup(srv.Close)
	return "s3+http://test-key:test-secret@" + strings.TrimPrefix(srv.URL, "http://") + "/" + bucket
}
