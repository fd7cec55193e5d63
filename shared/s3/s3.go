// Package s3 keeps blobs in an S3-compatible object store (AWS S3, MinIO,
// Ceph, …), for several machines sharing uploads and results. It behaves
// as the disk adapter does (shared/blobtest); private results are still
// served through the application, which checks the signed link first, so
// the bucket itself stays private.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/igemoji/igemoji/shared/moji"
)

// Config locates the bucket.
type Config struct {
	Endpoint  string // host[:port]
	Secure    bool   // HTTPS
	Region    string
	Bucket    string
	Prefix    string // keys are stored under Prefix/ (may be empty)
	AccessKey string
	SecretKey string
}

// ParseURL reads a blob URL: s3://KEY:SECRET@host[:port]/bucket[/prefix]
// [?region=…], or s3+http://… for a store without TLS (a MinIO on the
// same network). Without KEY:SECRET the keys come from getenv's
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
func ParseURL(raw string, getenv func(string) string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, errors.New("blob URL is not a URL")
	}
	var c Config
	switch u.Scheme {
	case "s3":
		c.Secure = true
	case "s3+http":
	default:
		return Config{}, fmt.Errorf("blob URL scheme %q: want s3 or s3+http", u.Scheme)
	}
	c.Endpoint = u.Host
	parts := strings.SplitN(strings.Trim(u.Path, "/"), "/", 2)
	c.Bucket = parts[0]
	if len(parts) == 2 {
		c.Prefix = strings.Trim(parts[1], "/")
	}
	if c.Endpoint == "" || c.Bucket == "" {
		return Config{}, errors.New("blob URL: want s3://host/bucket")
	}
	c.Region = u.Query().Get("region")
	if u.User != nil {
		c.AccessKey = u.User.Username()
		c.SecretKey, _ = u.User.Password()
	} else {
		c.AccessKey, c.SecretKey = getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		return Config{}, errors.New("blob URL: no credentials (give KEY:SECRET@ or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
	}
	return c, nil
}

// Blobs is a moji.Blobs in one bucket.
type Blobs struct {
	c      *minio.Client
	bucket string
	prefix string
}

var _ moji.Blobs = (*Blobs)(nil)

// New connects to the store and creates the bucket if it does not exist.
func New(ctx context.Context, cfg Config) (*Blobs, error) {
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       cfg.Secure,
		Region:       cfg.Region,
		BucketLookup: minio.BucketLookupPath, // works with every S3-compatible store
	})
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3: bucket %s at %s: %w", cfg.Bucket, cfg.Endpoint, err)
	}
	if !ok {
		if err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
			return nil, fmt.Errorf("s3: create bucket %s: %w", cfg.Bucket, err)
		}
	}
	return &Blobs{c: c, bucket: cfg.Bucket, prefix: cfg.Prefix}, nil
}

func (b *Blobs) name(key string) (string, bool) {
	if !moji.ValidBlobKey(key) {
		return "", false
	}
	if b.prefix == "" {
		return key, true
	}
	return path.Join(b.prefix, key), true
}

var contentTypes = map[string]string{".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp"}

// Put stores data; an S3 PUT is atomic, so readers see all of it or none.
func (b *Blobs) Put(ctx context.Context, key string, data []byte) error {
	name, ok := b.name(key)
	if !ok {
		return fmt.Errorf("put %q: invalid key", key)
	}
	_, err := b.c.PutObject(ctx, b.bucket, name, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: contentTypes[path.Ext(key)]})
	if err != nil {
		return fmt.Errorf("s3: put %s: %w", key, err)
	}
	return nil
}

// Open returns the object, read lazily as the caller reads or seeks.
func (b *Blobs) Open(ctx context.Context, key string) (io.ReadSeekCloser, int64, error) {
	name, ok := b.name(key)
	if !ok {
		return nil, 0, moji.Errorf(moji.ENOTFOUND, "File not found.")
	}
	obj, err := b.c.GetObject(ctx, b.bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, 0, fmt.Errorf("s3: get %s: %w", key, err)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		if r := minio.ToErrorResponse(err); r.Code == "NoSuchKey" || r.StatusCode == http.StatusNotFound {
			return nil, 0, moji.Errorf(moji.ENOTFOUND, "File not found.")
		}
		return nil, 0, fmt.Errorf("s3: stat %s: %w", key, err)
	}
	return obj, st.Size, nil
}

// Delete removes the object; S3 answers a missing one with success too.
func (b *Blobs) Delete(ctx context.Context, key string) error {
	name, ok := b.name(key)
	if !ok {
		return fmt.Errorf("delete %q: invalid key", key)
	}
	if err := b.c.RemoveObject(ctx, b.bucket, name, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("s3: delete %s: %w", key, err)
	}
	return nil
}
