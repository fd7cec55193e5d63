package runner

import (
	"context"
	"fmt"
	"image"
	"sync"

	"github.com/igemoji/igemoji/shared/compose"
	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/picture"
	"github.com/igemoji/igemoji/shared/store"
)

// emojiCache keeps the decoded images of recently used templates: a
// popular template is decoded once, not for every photo.
type emojiCache struct {
	db    *store.DB
	blobs moji.Blobs
	size  int

	mu    sync.Mutex
	items map[int64]map[moji.Expression]image.Image
	order []int64 // least recently used first
}

func newEmojiCache(db *store.DB, blobs moji.Blobs, size int) *emojiCache {
	return &emojiCache{db: db, blobs: blobs, size: size, items: map[int64]map[moji.Expression]image.Image{}}
}

// get returns template id's seven images. The template row is read every
// time, so that a deleted template is noticed; its images never change
// (content-addressed), so they are cached.
func (c *emojiCache) get(ctx context.Context, id int64) (map[moji.Expression]image.Image, error) {
	t, err := c.db.TemplateByID(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if m, ok := c.items[id]; ok {
		c.touch(id)
		c.mu.Unlock()
		return m, nil
	}
	c.mu.Unlock()
	m := make(map[moji.Expression]image.Image, len(t.Images))
	for e, key := range t.Images {
		f, _, err := c.blobs.Open(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("template %d, %s image: %w", id, e, err)
		}
		img, _, err := picture.Decode(f, picture.Limits{})
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("template %d, %s image: %w", id, e, err)
		}
		m[e] = compose.Prepare(img) // converted once, not at every paste
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[id]; !ok {
		c.items[id] = m
		c.order = append(c.order, id)
		if len(c.order) > c.size {
			delete(c.items, c.order[0])
			c.order = c.order[1:]
		}
	}
	return m, nil
}

func (c *emojiCache) touch(id int64) {
	for i, x := range c.order {
		if x == id {
			copy(c.order[i:], c.order[i+1:])
			c.order[len(c.order)-1] = id
			return
		}
	}
}
