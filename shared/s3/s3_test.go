package s3_test

import (
	"context"
	"testing"
	"time"

	"github.com/igemoji/igemoji/shared/blobtest"
	"github.com/igemoji/igemoji/shared/s3"
	"github.com/igemoji/igemoji/shared/s3/s3test"
)

func open(t *testing.T, rawURL string) *s3.Blobs {
	t.Helper()
	cfg, err := s3.ParseURL(rawURL, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	b, err := s3.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBlobs(t *testing.T) {
	blobtest.Run(t, open(t, s3test.Start(t, "igemoji")))
}

func TestBlobsUnderPrefix(t *testing.T) {
	url := s3test.Start(t, "shared")
	blobtest.Run(t, open(t, url+"/one/app"))
	// Another prefix in the same bucket sees none of it.
	ctx := context.Background()
	a, b := open(t, url+"/a"), open(t, url+"/b")
	if err := a.Put(ctx, "t/0123456789abcdef.png", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Open(ctx, "t/0123456789abcdef.png"); err == nil {
		t.Error("a blob put under prefix a is visible under prefix b")
	}
}

func TestParseURL(t *testing.T) {
	env := map[string]string{"AWS_ACCESS_KEY_ID": "env-key", "AWS_SECRET_ACCESS_KEY": "env-secret"}
	getenv := func(k string) string { return env[k] }
	for _, tc := range []struct {
		in      string
		want    s3.Config
		wantErr bool
	}{
		{in: "s3://k:s@s3.example.com/bucket?region=eu-west-1", want: s3.Config{Endpoint: "s3.example.com", Secure: true, Region: "eu-west-1", Bucket: "bucket", AccessKey: "k", SecretKey: "s"}},
		{in: "s3+http://minio:9000/b/some/prefix/", want: s3.Config{Endpoint: "minio:9000", Bucket: "b", Prefix: "some/prefix", AccessKey: "env-key", SecretKey: "env-secret"}},
		{in: "http://minio:9000/b", wantErr: true},
		{in: "s3://minio:9000/", wantErr: true},
		{in: "s3:///bucket", wantErr: true},
		{in: "::", wantErr: true},
	} {
		got, err := s3.ParseURL(tc.in, getenv)
		if (err != nil) != tc.wantErr || (!tc.wantErr && got != tc.want) {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
	if _, err := s3.ParseURL("s3://host/b", func(string) string { return "" }); err == nil {
		t.Error("no credentials anywhere: got nil error")
	}
}

func TestNewUnreachable(t *testing.T) {
	cfg, _ := s3.ParseURL("s3+http://k:s@127.0.0.1:1/b", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s3.New(ctx, cfg); err == nil {
		t.Error("a store nobody listens on: got nil error")
	}
}
