package main

// End-to-end tests of emojify tasks in the embedded setup: the real program
// with its in-process queue, bus and worker, spoken to over HTTP and
// WebSocket.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/store"
)

// taskView is the task JSON as clients read it.
type taskView struct {
	ID       string          `json:"task_id"`
	State    moji.TaskState  `json:"state"`
	Stage    moji.Stage      `json:"stage"`
	Percent  int             `json:"percent"`
	Template int64           `json:"template_id"`
	Result   *moji.Result    `json:"result"`
	Error    *moji.TaskError `json:"error"`
	ShareURL string          `json:"share_url"`
}

// photoForm is a task upload: the photo file and the template id.
func photoForm(t *testing.T, photo []byte, templateID string) (string, *bytes.Buffer) {
	t.Helper()
	return form(t, [][2]any{{"template_id", templateID}, {"image", photo}})
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// submit posts a photo and returns the accepted task.
func (a *app) submit(token string, photo []byte, templateID string) taskView {
	a.t.Helper()
	ct, body := photoForm(a.t, photo, templateID)
	r := a.do("POST", "/api/v1/faces/tasks/", token, ct, body)
	wantStatus(a.t, "submit task", r, http.StatusAccepted)
	conforms(a.t, "submit task", "Task", r)
	var v taskView
	if err := json.Unmarshal(r.body, &v); err != nil || len(v.ID) != 32 || v.State != moji.TaskQueued {
		a.t.Fatalf("submit: got %s, want a queued task with a 32-character id", r.body)
	}
	if loc := r.header.Get("Location"); loc != "/api/v1/faces/tasks/"+v.ID {
		a.t.Fatalf("submit: got Location %q, want /api/v1/faces/tasks/%s", loc, v.ID)
	}
	return v
}

// task polls a task once.
func (a *app) task(token, id string) (taskView, resp) {
	a.t.Helper()
	r := a.getJSON("/api/v1/faces/tasks/"+id, token)
	var v taskView
	if r.status == http.StatusOK {
		conforms(a.t, "task", "Task", r)
		if err := json.Unmarshal(r.body, &v); err != nil {
			a.t.Fatalf("task %s: %v: %s", id, err, r.body)
		}
	}
	return v, r
}

// waitTask polls until the task is done or failed.
func (a *app) waitTask(token, id string, within time.Duration) taskView {
	a.t.Helper()
	deadline := time.Now().Add(within)
	for {
		v, r := a.task(token, id)
		wantStatus(a.t, "poll task", r, http.StatusOK)
		if v.State == moji.TaskDone || v.State == moji.TaskFailed {
			return v
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("task %s not finished after %v: %s", id, within, r.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// wsConn is a WebSocket client that collects every message.
type wsConn struct {
	t    *testing.T
	c    *websocket.Conn
	msgs chan map[string]any
}

func dialWS(t *testing.T, base, token string) *wsConn {
	t.Helper()
	u := strings.Replace(base, "http://", "ws://", 1) + "/api/v1/ws"
	if token != "" {
		u += "?token=" + token
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// As a browser does: the page's origin, which the server checks
	// against the Host it was reached at (through nginx too).
	c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {base}}})
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	c.SetReadLimit(1 << 20)
	w := &wsConn{t: t, c: c, msgs: make(chan map[string]any, 1024)}
	go func() {
		defer close(w.msgs)
		for {
			_, b, err := c.Read(context.Background())
			if err != nil {
				return
			}
			var m map[string]any
			if json.Unmarshal(b, &m) == nil {
				w.msgs <- m
			}
		}
	}()
	t.Cleanup(func() { c.Close(websocket.StatusNormalClosure, "") })
	return w
}

func (w *wsConn) send(v any) {
	w.t.Helper()
	b, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.c.Write(ctx, websocket.MessageText, b); err != nil {
		w.t.Fatalf("websocket write: %v", err)
	}
}

// waitFor returns the first message for which match is true, failing after
// within; the messages before it are returned too.
func (w *wsConn) waitFor(within time.Duration, what string, match func(map[string]any) bool) (map[string]any, []map[string]any) {
	w.t.Helper()
	var seen []map[string]any
	timeout := time.After(within)
	for {
		select {
		case m, ok := <-w.msgs:
			if !ok {
				w.t.Fatalf("websocket closed while waiting for %s; saw %v", what, seen)
			}
			seen = append(seen, m)
			if match(m) {
				return m, seen
			}
		case <-timeout:
			w.t.Fatalf("no %s within %v; saw %v", what, within, seen)
		}
	}
}

func isType(typ, taskID string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["type"] == typ && (taskID == "" || m["task_id"] == taskID) }
}

// rankingUses reads the uses of template id from a ranking item list.
func rankingUses(items []any, id int64) int {
	for _, it := range items {
		m := it.(map[string]any)
		if int64(m["template"].(map[string]any)["id"].(float64)) == id {
			return int(m["uses"].(float64))
		}
	}
	return 0
}

// The whole journey of a logged-in user: submit, live progress, result,
// private image, share, unshare, My page, ranking, delete.
func TestTaskJourney(t *testing.T) {
	assets := visionAssets(t)
	photo := readFile(t, samplePhoto(t, assets, 1))
	for _, d := range []store.Dialect{store.SQLite, store.MySQL} {
		t.Run(string(d), func(t *testing.T) {
			a := startApp(t, d, "--workers", "1")
			tok := a.signup("eun@example.com", "eun")
			other := a.signup("min@example.com", "min")
			ws := dialWS(t, a.base, tok)
			rank := dialWS(t, a.base, "")
			rank.send(map[string]string{"type": "subscribe", "topic": "ranking"})
			rank.waitFor(5*time.Second, "the initial ranking", isType(moji.EventRankingUpdated, ""))

			v := a.submit(tok, photo, "1")
			// The owner's connection gets the events without subscribing.
			done, seen := ws.waitFor(60*time.Second, "task.done", isType(moji.EventTaskDone, v.ID))
			var stages []string
			for _, m := range seen {
				if m["type"] == moji.EventTaskProgress {
					stages = append(stages, m["stage"].(string))
				}
				if _, leaked := m["owner_id"]; leaked {
					t.Errorf("event %v carries owner_id", m)
				}
			}
			for _, want := range []moji.Stage{moji.StageDetecting, moji.StageReading, moji.StageCompositing} {
				if !strings.Contains(strings.Join(stages, ","), string(want)) {
					t.Errorf("progress stages: got %v, want %s among them", stages, want)
				}
			}
			if done["result"] == nil {
				t.Fatalf("task.done without a result: %v", done)
			}

			got := a.waitTask(tok, v.ID, 5*time.Second)
			if got.State != moji.TaskDone || got.Percent != 100 || got.Result == nil {
				t.Fatalf("task: got %+v, want done at 100%% with a result", got)
			}
			if n := len(got.Result.Faces); n < 2 {
				t.Errorf("faces in sample1: got %d, want at least 2", n)
			}
			for _, f := range got.Result.Faces {
				if _, ok := moji.ParseExpression(string(f.Expression)); !ok || len(f.Probs) != 7 || f.Box[2] <= 0 {
					t.Errorf("face %+v: want a class, 7 probabilities and a box", f)
				}
			}
			// The picture: private, behind a signed link.
			img := a.do("GET", got.Result.ImageURL, "", "", nil)
			wantStatus(t, "result image", img, 200)
			if cd := img.header.Get("Content-Disposition"); !regexp.MustCompile(`^inline; filename="igemoji-[0-9a-f]{12}\.(jpg|png)"$`).MatchString(cd) {
				t.Errorf("result image: got Content-Disposition %q, want a file name of its own", cd)
			}
			if ct := img.header.Get("Content-Type"); ct != "image/jpeg" {
				t.Errorf("result image: got Content-Type %q, want image/jpeg", ct)
			}
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(img.body))
			if err != nil || cfg.Width != got.Result.Width || cfg.Height != got.Result.Height {
				t.Errorf("result image: got %dx%d (%v), want %dx%d", cfg.Width, cfg.Height, err, got.Result.Width, got.Result.Height)
			}
			if bytes.Contains(img.body[:min(len(img.body), 4096)], []byte("Exif")) {
				t.Error("result image carries EXIF metadata")
			}
			unsigned := strings.SplitN(got.Result.ImageURL, "?", 2)[0]
			wantError(t, "unsigned result link", a.do("GET", unsigned, "", "", nil), 403, moji.EFORBIDDEN)
			wantError(t, "tampered result link", a.do("GET", strings.Replace(got.Result.ImageURL, "sig=", "sig=x", 1), "", "", nil), 403, moji.EFORBIDDEN)

			// Nobody else sees it.
			if _, r := a.task(other, v.ID); r.status != 404 {
				t.Errorf("another user's view: got %d, want 404", r.status)
			}
			if _, r := a.task("", v.ID); r.status != 404 {
				t.Errorf("anonymous view of a user's task: got %d, want 404", r.status)
			}
			wantError(t, "another user shares", a.do("POST", "/api/v1/faces/tasks/"+v.ID+"/share", other, "", nil), 404, moji.ENOTFOUND)
			wantError(t, "another user deletes", a.do("DELETE", "/api/v1/faces/tasks/"+v.ID, other, "", nil), 404, moji.ENOTFOUND)

			// Sharing.
			sr := a.do("POST", "/api/v1/faces/tasks/"+v.ID+"/share", tok, "", nil)
			wantStatus(t, "share", sr, 200)
			conforms(t, "share", "Share", sr)
			shareURL := sr.json(t)["share_url"].(string)
			slug := shareURL[strings.LastIndex(shareURL, "/")+1:]
			if !strings.HasPrefix(shareURL, a.base+"/s/") || len(slug) < 22 {
				t.Fatalf("share_url: got %q, want %s/s/ and at least 128 bits", shareURL, a.base)
			}
			again := a.do("POST", "/api/v1/faces/tasks/"+v.ID+"/share", tok, "", nil).json(t)["share_url"]
			if again != shareURL {
				t.Errorf("sharing twice: got %v, want the same %s", again, shareURL)
			}
			page := a.do("GET", "/s/"+slug, "", "", nil)
			wantStatus(t, "share page", page, 200)
			for _, want := range []string{`property="og:image" content="` + shareURL + `/image"`, `property="og:title"`, `name="twitter:card"`} {
				if !strings.Contains(string(page.body), want) {
					t.Errorf("share page: want %s in\n%s", want, page.body)
				}
			}
			shared := a.do("GET", "/s/"+slug+"/image", "", "", nil)
			wantStatus(t, "shared image", shared, 200)
			ko := a.doWith("GET", "/s/"+slug, http.Header{"Accept-Language": {"ko"}}, nil)
			if body := string(ko.body); !strings.Contains(body, `<html lang="ko">`) || !strings.Contains(body, `property="og:locale" content="ko_KR"`) ||
				!strings.Contains(body, "IGE MOJI에서 직접 만들어 보세요") || ko.header.Get("Vary") != "Accept-Language, Cookie" {
				t.Errorf("share page in Korean: got Vary %q and\n%s", ko.header.Get("Vary"), body)
			}
			// Unsharing must end the link at once, also where it was seen:
			// caches ask every time, and a still-shared image costs a 304.
			if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || page.header.Get("X-Frame-Options") != "DENY" {
				t.Errorf("share page: got CSP %q and X-Frame-Options %q, want it kept out of frames", csp, page.header.Get("X-Frame-Options"))
			}
			for name, h := range map[string]http.Header{"share page": page.header, "shared image": shared.header} {
				if got := h.Get("Cache-Control"); got != "no-cache" {
					t.Errorf("%s: got Cache-Control %q, want no-cache", name, got)
				}
			}
			etag := shared.header.Get("ETag")
			if etag == "" || strings.Contains(etag, v.ID) {
				t.Errorf("shared image: got ETag %q, want one that does not name the task", etag)
			}
			if r := a.doWith("GET", "/s/"+slug+"/image", http.Header{"If-None-Match": {etag}}, nil); r.status != 304 {
				t.Errorf("shared image revalidated: got %d, want 304", r.status)
			}
			wantStatus(t, "unshare", a.do("DELETE", "/api/v1/faces/tasks/"+v.ID+"/share", tok, "", nil), 204)
			// People open share links in a browser: a link that no longer
			// works is a page in their language, not a JSON error.
			// The language picked in the app (its cookie) comes first.
			for _, tt := range []struct{ lang, cookie, want string }{
				{"", "", "no longer shared"},
				{"ko-KR,ko;q=0.9,en;q=0.8", "", "공유가 중지되었습니다"},
				{"fr-CH, fr;q=0.9", "", "no longer shared"},
				{"not a language header", "", "no longer shared"},
				{"ko-KR,ko;q=abc", "", "공유가 중지되었습니다"}, // one bad weight spoils not the rest
				{"en-US,ko;q=0.9", "", "no longer shared"},
				{"en-US", "igemoji_lang=ko", "공유가 중지되었습니다"},
				{"ko", "igemoji_lang=en", "no longer shared"},
				{"ko", "igemoji_lang=fr", "공유가 중지되었습니다"}, // not one of ours: the header decides
				{"", "other=1; igemoji_lang=ko", "공유가 중지되었습니다"},
			} {
				r := a.doWith("GET", "/s/"+slug, http.Header{"Accept-Language": {tt.lang}, "Cookie": {tt.cookie}}, nil)
				if r.status != 404 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") ||
					!strings.Contains(string(r.body), tt.want) || !strings.Contains(string(r.body), `href="/"`) {
					t.Errorf("unshared page, Accept-Language %q, Cookie %q: got %d %s %q, want 404 HTML saying %q with a way home",
						tt.lang, tt.cookie, r.status, r.header.Get("Content-Type"), r.body, tt.want)
				}
			}
			wantError(t, "unshared image", a.do("GET", "/s/"+slug+"/image", "", "", nil), 404, moji.ENOTFOUND)

			// My page.
			for _, c := range []string{"results", "1"} {
				mpr := a.getJSON("/api/v1/users/mypage/"+c, tok)
				conforms(t, "my results", "TaskPage", mpr)
				mp := mpr.json(t)
				items := mp["items"].([]any)
				if len(items) != 1 || items[0].(map[string]any)["task_id"] != v.ID || mp["total"].(float64) != 1 {
					t.Errorf("mypage/%s: got %v, want the one result", c, mp)
				}
			}
			if items := a.getJSON("/api/v1/users/mypage/results", other).json(t)["items"].([]any); len(items) != 0 {
				t.Errorf("another user's mypage/results: got %d items, want 0", len(items))
			}

			// Ranking: polled and pushed.
			rkr := a.getJSON("/api/v1/faces/ranking", "")
			conforms(t, "ranking", "Ranking", rkr)
			rk := rkr.json(t)
			if n := rankingUses(rk["items"].([]any), 1); n != 1 {
				t.Errorf("ranking: got %d uses of template 1, want 1 (%v)", n, rk)
			}
			rank.waitFor(10*time.Second, "ranking.updated with the use", func(m map[string]any) bool {
				items, _ := m["ranking"].([]any)
				return m["type"] == moji.EventRankingUpdated && rankingUses(items, 1) == 1
			})

			// Metrics: every family the dashboards use has a series.
			m := string(a.getJSON("/metrics", "").body)
			for _, want := range []string{
				`igemoji_http_requests_total{code="202",method="POST",route="/api/v1/faces/tasks"} 1`,
				`igemoji_http_request_duration_seconds_bucket{method="GET",route="/api/v1/faces/tasks/{id}"`,
				`igemoji_tasks_submitted_total 1`,
				`igemoji_tasks_finished_total{outcome="done"} 1`,
				`igemoji_task_stage_duration_seconds_count{stage="reading"} 1`,
				`igemoji_inference_duration_seconds_count{model="blazeface"}`,
				`igemoji_inference_duration_seconds_count{model="face-api"}`,
				`igemoji_websocket_connections 2`,
				`igemoji_queue_depth 0`,
				`igemoji_oldest_queued_task_age_seconds 0`,
				`process_resident_memory_bytes`,
			} {
				if !strings.Contains(m, want) {
					t.Errorf("/metrics: want a line with %s", want)
				}
			}

			// Delete: the task, its picture and its link go.
			wantStatus(t, "delete", a.do("DELETE", "/api/v1/faces/tasks/"+v.ID, tok, "", nil), 204)
			if _, r := a.task(tok, v.ID); r.status != 404 {
				t.Errorf("deleted task: got %d, want 404", r.status)
			}
			if r := a.do("GET", got.Result.ImageURL, "", "", nil); r.status != 404 {
				t.Errorf("deleted task's image: got %d, want 404", r.status)
			}
		})
	}
}

// A deleted template leaves the live ranking at once, not at the hub's
// next periodic read (30 s).
func TestRankingDropsADeletedTemplate(t *testing.T) {
	visionAssets(t)
	var buf bytes.Buffer
	jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 320, 240)), nil) // no faces: quick
	a := startApp(t, store.SQLite, "--workers", "1")
	tok := a.signup("maker@example.com", "maker")
	r := a.createTemplate(tok, templateFields(t, "short-lived"))
	wantStatus(t, "create template", r, http.StatusCreated)
	id := int64(r.json(t)["id"].(float64))
	if v := a.waitTask(tok, a.submit(tok, buf.Bytes(), fmt.Sprint(id)).ID, 60*time.Second); v.State != moji.TaskDone {
		t.Fatalf("task: got %s, want done", v.State)
	}
	rank := dialWS(t, a.base, "")
	rank.send(map[string]string{"type": "subscribe", "topic": "ranking"})
	uses := func(n int) func(map[string]any) bool {
		return func(m map[string]any) bool {
			items, _ := m["ranking"].([]any)
			return m["type"] == moji.EventRankingUpdated && rankingUses(items, id) == n
		}
	}
	rank.waitFor(10*time.Second, "the ranking with the template's use", uses(1))
	wantStatus(t, "delete template", a.do("DELETE", fmt.Sprintf("/api/v1/emojis/%d", id), tok, "", nil), http.StatusNoContent)
	rank.waitFor(5*time.Second, "the ranking without the template", uses(0))
}

// An anonymous visitor follows the task by its id over the WebSocket, and
// a photo without faces is a result, not an error.
func TestAnonymousTaskWithoutFaces(t *testing.T) {
	visionAssets(t)
	a := startApp(t, store.SQLite, "--workers", "1")
	var buf bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	jpeg.Encode(&buf, img, nil)
	// A phone's photo names its colour space (Display P3): the result must
	// keep it, or its colours show duller.
	profile := make([]byte, 600)
	profile[2], profile[3] = 600>>8, 600&0xff // its size
	copy(profile[12:], "mntrRGB XYZ ")
	copy(profile[36:], "acsp")
	seg := []byte{0xff, 0xe2, byte((2 + 14 + len(profile)) >> 8), byte(2 + 14 + len(profile))}
	seg = append(append(seg, "ICC_PROFILE\x00\x01\x01"...), profile...)
	photo := append(append(append([]byte{}, buf.Bytes()[:2]...), seg...), buf.Bytes()[2:]...)
	v := a.submit("", photo, "2")
	ws := dialWS(t, a.base, "")
	ws.send(map[string]string{"type": "subscribe", "topic": "task", "task_id": v.ID})
	// The task may finish before the subscription lands; polling is the
	// fallback, and must agree.
	got := a.waitTask("", v.ID, 60*time.Second)
	if got.State != moji.TaskDone || got.Result == nil || len(got.Result.Faces) != 0 {
		t.Fatalf("photo without faces: got %+v, want done with no faces", got)
	}
	res := a.do("GET", got.Result.ImageURL, "", "", nil)
	wantStatus(t, "result image", res, 200)
	if i := bytes.Index(res.body, []byte("ICC_PROFILE\x00\x01\x01")); i < 0 || !bytes.Equal(res.body[i+14:min(len(res.body), i+14+len(profile))], profile) {
		t.Error("result image: the photo's colour profile is missing")
	}
	stranger := dialWS(t, a.base, "")
	stranger.send(map[string]string{"type": "subscribe", "topic": "task", "task_id": strings.Repeat("0", 32)})
	m, _ := stranger.waitFor(5*time.Second, "an error reply", isType("error", ""))
	if e, _ := m["error"].(map[string]any); e == nil || e["code"] == "" {
		t.Errorf("subscribe to an unknown task: got %v, want an error with a code", m)
	}
}

// Bad uploads get a clear 4xx and leave nothing behind.
func TestTaskBadInput(t *testing.T) {
	assets := visionAssets(t)
	data := t.TempDir()
	a := startApp(t, store.SQLite, "--workers", "0", "--data", data)
	tok := a.signup("bad@example.com", "bad")
	photo := readFile(t, samplePhoto(t, assets, 2))
	big := bytes.Repeat([]byte{0}, 26<<20)
	copy(big, photo)
	tests := []struct {
		name   string
		fields [][2]any
		ct     string
		status int
		code   string
	}{
		{"no image", [][2]any{{"template_id", "1"}}, "", 400, moji.EINVALID},
		{"no template", [][2]any{{"image", photo}}, "", 400, moji.EINVALID},
		{"template not a number", [][2]any{{"template_id", "one"}, {"image", photo}}, "", 400, moji.EINVALID},
		{"template unknown", [][2]any{{"template_id", "999"}, {"image", photo}}, "", 400, moji.EINVALID},
		{"template id with more after 32 bytes", [][2]any{{"template_id", strings.Repeat("0", 31) + "1XYZ"}, {"image", photo}}, "", 400, moji.EINVALID},
		{"not an image", [][2]any{{"template_id", "1"}, {"image", []byte("hello, I am text")}}, "", 415, moji.EUNSUPPORTED},
		{"truncated JPEG", [][2]any{{"template_id", "1"}, {"image", photo[:len(photo)/2]}}, "", 400, moji.EINVALID},
		{"pixel bomb", [][2]any{{"template_id", "1"}, {"image", bombPNG(30000, 30000)}}, "", 400, moji.EINVALID},
		{"too large", [][2]any{{"template_id", "1"}, {"image", big}}, "", 413, moji.ETOOLARGE},
		{"two images", [][2]any{{"template_id", "1"}, {"image", photo}, {"image", photo}}, "", 400, moji.EINVALID},
		{"extra field", [][2]any{{"template_id", "1"}, {"image", photo}, {"owner", "7"}}, "", 400, moji.EINVALID},
		{"JSON body", nil, "application/json", 415, moji.EUNSUPPORTED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, body := form(t, tt.fields)
			if tt.ct != "" {
				ct, body = tt.ct, bytes.NewBufferString(`{"template_id":1}`)
			}
			wantError(t, tt.name, a.do("POST", "/api/v1/faces/tasks/", tok, ct, body), tt.status, tt.code)
		})
	}
	wantError(t, "bad task id", a.getJSON("/api/v1/faces/tasks/../../etc", tok), 404, moji.ENOTFOUND)
	wantError(t, "unknown task id", a.getJSON("/api/v1/faces/tasks/"+strings.Repeat("a", 32), tok), 404, moji.ENOTFOUND)
	wantError(t, "expired ws token", a.do("GET", "/api/v1/ws?token=nope", "", "", nil), 401, moji.EUNAUTHORIZED)
	// Other clients may use the header; a bad one is not taken as anonymous.
	wantError(t, "bad ws Authorization", a.do("GET", "/api/v1/ws", "garbage", "", nil), 401, moji.EUNAUTHORIZED)
	if r := a.do("GET", "/api/v1/ws", tok, "", nil); r.status == 401 {
		t.Errorf("ws with a good Authorization header: got %d %s, want it past the token check", r.status, r.body)
	}
	wantError(t, "ws Authorization not Bearer", a.doWith("GET", "/api/v1/ws", http.Header{"Authorization": {"Basic eDp5"}}, nil), 401, moji.EUNAUTHORIZED)
	if files, _ := filepath.Glob(filepath.Join(data, "blobs", "uploads", "*")); len(files) != 0 {
		t.Errorf("rejected uploads left files: %v", files)
	}
}

// Many clients submit at once: every task completes, exactly once.
func TestManyTasksCompleteOnce(t *testing.T) {
	assets := visionAssets(t)
	a := startApp(t, store.SQLite, "--workers", "2")
	photos := [][]byte{readFile(t, samplePhoto(t, assets, 2)), readFile(t, samplePhoto(t, assets, 4))}
	const clients, each = 4, 3
	var mu sync.Mutex
	var ids []string
	var wg sync.WaitGroup
	for c := range clients {
		tok := a.signup(fmt.Sprintf("c%d@example.com", c), fmt.Sprintf("client%d", c))
		wg.Go(func() {
			for i := range each {
				v := a.submit(tok, photos[(c+i)%2], "1")
				done := a.waitTask(tok, v.ID, 2*time.Minute)
				if done.State != moji.TaskDone {
					t.Errorf("task %s: got %s (%+v), want done", v.ID, done.State, done.Error)
				}
				mu.Lock()
				ids = append(ids, v.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(ids) != clients*each {
		t.Fatalf("finished tasks: got %d, want %d", len(ids), clients*each)
	}
	rk := a.getJSON("/api/v1/faces/ranking", "").json(t)
	if n := rankingUses(rk["items"].([]any), 1); n != clients*each {
		t.Errorf("uses recorded: got %d, want %d (each task counted once)", n, clients*each)
	}
	if c := strings.Count(a.logs.String(), "task done"); c != clients*each {
		t.Errorf("tasks processed to the end: got %d, want %d", c, clients*each)
	}
}
