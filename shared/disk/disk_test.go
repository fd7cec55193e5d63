package disk_test

import (
	"testing"

	"github.com/igemoji/igemoji/shared/blobtest"
	"github.com/igemoji/igemoji/shared/disk"
)

func TestBlobs(t *testing.T) {
	b, err := disk.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	blobtest.Run(t, b)
}
