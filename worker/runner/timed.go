package runner

import (
	"context"
	"io"
	"time"

	"github.com/igemoji/igemoji/shared/moji"
)

// timedBlobs bounds each storage call: a stalled bucket would otherwise hold
// a task in its stage for ever (the heartbeat keeps its lease alive) and the
// sweep with it. The bounds are generous: a photo is at most 25 MB.
type timedBlobs struct {
	moji.Blobs
	call time.Duration // a delete, or the start of a transfer
	rate int           // bytes a second a transfer may be as slow as
	read time.Duration // reading an object, from opening to closing
}

func newTimedBlobs(b moji.Blobs) timedBlobs {
	return timedBlobs{Blobs: b, call: 30 * time.Second, rate: 1 << 20, read: 2 * time.Minute}
}

func (b timedBlobs) Put(ctx context.Context, key string, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, b.call+time.Duration(len(data)/b.rate)*time.Second)
	defer cancel()
	return b.Blobs.Put(ctx, key, data)
}

func (b timedBlobs) Delete(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, b.call)
	defer cancel()
	return b.Blobs.Delete(ctx, key)
}

// Open's deadline covers the reading too (an object is read lazily), and
// ends when the reader is closed.
func (b timedBlobs) Open(ctx context.Context, key string) (io.ReadSeekCloser, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, b.read)
	f, n, err := b.Blobs.Open(ctx, key)
	if err != nil {
		cancel()
		return nil, 0, err
	}
	return cancelOnClose{f, cancel}, n, nil
}

type cancelOnClose struct {
	io.ReadSeekCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadSeekCloser.Close()
	c.cancel()
	return err
}
