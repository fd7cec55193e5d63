package main

import (
	"bytes"
	"context"
	"image/jpeg"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/s3/s3test"
	"github.com/igemoji/igemoji/shared/store"
)

// TestTasksOnS3 runs the program with its files in an S3-compatible bucket
// (a real S3-protocol server on a loopback port): a custom template, a task
// on it, its private result through the signed link, the public share
// page's image, and the bucket holding what the disk would otherwise hold.
func TestTasksOnS3(t *testing.T) {
	assets := visionAssets(t)
	blobURL := s3test.Start(t, "igemoji")
	data := filepath.Join(t.TempDir(), "data")
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "s3.db")
	a := startApp(t, store.SQLite, "--workers", "1", "--data", data, "--blob-url", blobURL, "--database-url", dbURL)
	tok := a.signup("s3@example.com", "s3user")

	r := a.createTemplate(tok, templateFields(t, "On S3"))
	wantStatus(t, "template", r, 201)
	id := int64(r.json(t)["id"].(float64))

	v := a.submit(tok, readFile(t, samplePhoto(t, assets, 1)), strconv.FormatInt(id, 10))
	got := a.waitTask(tok, v.ID, 60*time.Second)
	if got.State != moji.TaskDone || got.Result == nil || len(got.Result.Faces) < 2 {
		t.Fatalf("task on S3: got %+v, want done with the faces", got)
	}
	img := a.do("GET", got.Result.ImageURL, "", "", nil)
	wantStatus(t, "result image", img, 200)
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader(img.body)); err != nil || cfg.Width != 1920 {
		t.Fatalf("result image: got %v, %v; want a 1920-px JPEG", cfg, err)
	}
	// The link is signed: without its signature the picture is not served.
	u, _ := url.Parse(got.Result.ImageURL)
	wantStatus(t, "unsigned result image", a.do("GET", u.Path, "", "", nil), 403)

	share := a.do("POST", "/api/v1/faces/tasks/"+v.ID+"/share", tok, "", nil)
	wantStatus(t, "share", share, 200)
	slug := strings.TrimPrefix(share.json(t)["share_url"].(string), a.base+"/s/")
	slug = strings.TrimPrefix(slug, "/s/")
	wantStatus(t, "shared image", a.do("GET", "/s/"+slug+"/image", "", "", nil), 200)

	// Everything is in the bucket, nothing under DATA/blobs; the uploaded
	// photo is gone once processed (no retention configured).
	keys := bucketKeys(t, blobURL)
	var results, uploads, templates int
	for _, k := range keys {
		switch {
		case strings.HasPrefix(k, "results/"):
			results++
		case strings.HasPrefix(k, "uploads/"):
			uploads++
		default:
			templates++
		}
	}
	if results != 1 || uploads != 0 || templates < 7 {
		t.Errorf("bucket: got %d results, %d uploads, %d other blobs (%v); want 1, 0 and the template's 7 or more", results, uploads, templates, keys)
	}
	if entries, err := os.ReadDir(filepath.Join(data, "blobs")); err == nil && len(entries) > 0 {
		t.Errorf("DATA/blobs holds %d entries, want none with S3 configured", len(entries))
	}

	// The command line reads the same template from the bucket.
	out := filepath.Join(t.TempDir(), "out.jpg")
	if _, stderr, err := runCLI(t, "emojify", "--assets", assets, "--template", strconv.FormatInt(id, 10),
		"--database-url", dbURL, "--blob-url", blobURL, "-o", out, samplePhoto(t, assets, 2)); err != nil {
		t.Fatalf("emojify with a template in the bucket: %v\n%s", err, stderr)
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("emojify wrote nothing: %v", err)
	}
}

// bucketKeys lists the bucket behind a blob URL.
func bucketKeys(t *testing.T, blobURL string) []string {
	t.Helper()
	u, _ := url.Parse(blobURL)
	secret, _ := u.User.Password()
	c, err := minio.New(u.Host, &minio.Options{Creds: credentials.NewStaticV4(u.User.Username(), secret, ""), BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for o := range c.ListObjects(context.Background(), strings.Trim(u.Path, "/"), minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		keys = append(keys, o.Key)
	}
	return keys
}
