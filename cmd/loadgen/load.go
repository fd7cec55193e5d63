package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"sync"
	"time"

	"github.com/igemoji/igemoji/shared/moji"
)

// populate signs up users and uploads n templates (ten per user: the
// server limits how fast one person creates templates), then checks that
// the last page the load will ask for is not empty, so every request
// measured reads real rows.
func populate(ctx context.Context, base string, n, pages int) error {
	var token string
	for i := range n {
		if i%10 == 0 {
			var err error
			if token, err = newUser(ctx, base, fmt.Sprintf("bench%d", i/10)); err != nil {
				return err
			}
		}
		ct, body := templateForm(i)
		if _, err := call(ctx, "POST", base+"/api/v1/emojis/", token, ct, body, http.StatusCreated); err != nil {
			return fmt.Errorf("create template %d: %w", i+1, err)
		}
	}
	b, err := call(ctx, "GET", fmt.Sprintf("%s/api/v1/emojis/pages/%d", base, pages), "", "", nil, http.StatusOK)
	if err != nil {
		return err
	}
	var page struct{ Items []json.RawMessage }
	if err := json.Unmarshal(b, &page); err != nil || len(page.Items) == 0 {
		return fmt.Errorf("gallery page %d is empty; upload more -templates or lower -path-pages", pages)
	}
	return nil
}

// newUser signs up the user with alias name (letters and digits) and
// returns its access token.
func newUser(ctx context.Context, base, name string) (string, error) {
	return newUserWith(ctx, setupClient, base, name)
}

// newUserWith is newUser through the HTTP client hc.
func newUserWith(ctx context.Context, hc *http.Client, base, name string) (string, error) {
	user := map[string]string{"email": name + "@example.com", "password": "correct horse battery", "alias": name}
	if _, err := callWith(ctx, hc, "POST", base+"/api/v1/users/", "", "application/json", jsonBody(user), http.StatusCreated); err != nil {
		return "", fmt.Errorf("sign up: %w", err)
	}
	b, err := callWith(ctx, hc, "POST", base+"/api/v1/users/auth", "", "application/json",
		jsonBody(map[string]string{"email": user["email"], "password": user["password"]}), http.StatusOK)
	if err != nil {
		return "", fmt.Errorf("log in: %w", err)
	}
	var auth struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(b, &auth); err != nil || auth.AccessToken == "" {
		return "", fmt.Errorf("log in: no access_token in %s", b)
	}
	return auth.AccessToken, nil
}

// call sends one setup request and returns its body, failing on any status
// but want.
func call(ctx context.Context, method, url, token, contentType string, body io.Reader, want int) ([]byte, error) {
	return callWith(ctx, setupClient, method, url, token, contentType, body, want)
}

// callWith is call through the HTTP client hc.
func callWith(ctx context.Context, hc *http.Client, method, url, token, contentType string, body io.Reader, want int) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != want {
		return nil, fmt.Errorf("%s %s: status %d, want %d: %s", method, url, res.StatusCode, want, b)
	}
	return b, nil
}

func jsonBody(v any) io.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}

// templateForm builds template i's multipart upload: a name and seven
// faces. Colours differ per template and expression so that no two images
// share a content-addressed blob, as with real uploads.
func templateForm(i int) (string, *bytes.Buffer) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("name", fmt.Sprintf("bench %d", i+1))
	for j, e := range moji.Expressions {
		fw, _ := w.CreateFormFile(string(e), string(e)+".png")
		fw.Write(facePNG(uint8(i), uint8(36*j)))
	}
	w.Close()
	return w.FormDataContentType(), &buf
}

// facePNG draws a coloured disc on white, like the e2e tests' faces: the
// server has a background to remove.
func facePNG(r, g uint8) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 120, 100))
	for y := 0; y < 100; y++ {
		for x := 0; x < 120; x++ {
			c := color.NRGBA{255, 255, 255, 255}
			if dx, dy := x-60, y-50; dx*dx+dy*dy < 40*40 {
				c = color.NRGBA{200 + r%50, g, 40, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img) // cannot fail on an in-memory NRGBA
	return buf.Bytes()
}

// loadResult merges what the workers measured.
type loadResult struct {
	lat      []time.Duration // successful requests started after the warm-up
	errs     int
	firstErr error
}

// load runs c workers, each on its own keep-alive connection, that GET the
// gallery pages in turn until warmup+d has passed. Only requests that start
// after the warm-up count.
func load(ctx context.Context, base string, c, pages int, warmup, d time.Duration) loadResult {
	paths := make([]string, pages)
	for i := range paths {
		paths[i] = fmt.Sprintf("%s/api/v1/emojis/pages/%d", base, i+1)
	}
	start := time.Now()
	measureFrom, end := start.Add(warmup), start.Add(warmup+d)
	results := make([]loadResult, c)
	var wg sync.WaitGroup
	for w := range c {
		wg.Go(func() {
			// One transport per worker: one connection each, reused, as a
			// browser tab would. The timeout bounds a stuck request.
			tr := &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			// Preallocate so growing the slice does not pause the worker
			// mid-measurement; append still grows it on a faster machine.
			r := loadResult{lat: make([]time.Duration, 0, 1<<14)}
			for i := w; ctx.Err() == nil; i++ {
				t0 := time.Now()
				if !t0.Before(end) {
					break
				}
				err := get(ctx, client, paths[i%len(paths)])
				lat := time.Since(t0)
				if t0.Before(measureFrom) {
					continue
				}
				if err != nil {
					if r.errs++; r.firstErr == nil {
						r.firstErr = err
					}
					continue
				}
				r.lat = append(r.lat, lat)
			}
			results[w] = r
		})
	}
	wg.Wait()
	var all loadResult
	for _, r := range results {
		all.lat = append(all.lat, r.lat...)
		all.errs += r.errs
		if all.firstErr == nil {
			all.firstErr = r.firstErr
		}
	}
	return all
}

// get fetches url and reads the whole body, which both checks the response
// and lets the connection be reused.
func get(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		return fmt.Errorf("GET %s: reading body: %w", url, err)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, res.StatusCode)
	}
	return nil
}
