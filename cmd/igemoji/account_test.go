package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/shared/store/storetest"
)

// Deleting an account, end to end: the password is asked again; the
// account, its results and their pictures and its templates go; what
// others made with its template stays.
func TestDeleteAccount(t *testing.T) {
	visionAssets(t)
	var buf bytes.Buffer
	jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 320, 240)), nil) // no faces: quick
	photo := buf.Bytes()
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			a := startApp(t, d, "--workers", "1")
			tok := a.signup("leaving@example.com", "leaving")
			other := a.signup("staying@example.com", "staying")
			r := a.createTemplate(tok, templateFields(t, "going away"))
			wantStatus(t, "create template", r, http.StatusCreated)
			created := r.json(t)
			tpl := fmt.Sprint(int64(created["id"].(float64)))
			face := created["images"].(map[string]any)["happy"].(string)
			wantStatus(t, "my template's picture before", a.do("GET", face, "", "", nil), http.StatusOK)
			mine := a.waitTask(tok, a.submit(tok, photo, "1").ID, 60*time.Second)
			theirs := a.waitTask(other, a.submit(other, photo, tpl).ID, 60*time.Second)
			if mine.State != moji.TaskDone || theirs.State != moji.TaskDone {
				t.Fatalf("tasks: got %s and %s, want done", mine.State, theirs.State)
			}
			wantStatus(t, "my picture before", a.do("GET", mine.Result.ImageURL, "", "", nil), http.StatusOK)
			tplID, _ := strconv.ParseInt(tpl, 10, 64)
			rank := dialWS(t, a.base, "")
			rank.send(map[string]string{"type": "subscribe", "topic": "ranking"})
			rank.waitFor(10*time.Second, "the ranking with the template's use", func(m map[string]any) bool {
				items, _ := m["ranking"].([]any)
				return m["type"] == moji.EventRankingUpdated && rankingUses(items, tplID) == 1
			})

			del := func(token, body string) resp {
				return a.do("DELETE", "/api/v1/users/me", token, "application/json", strings.NewReader(body))
			}
			wantError(t, "anonymous", del("", `{"password":"correct horse"}`), http.StatusUnauthorized, moji.EUNAUTHORIZED)
			wantError(t, "no password", del(tok, `{}`), http.StatusBadRequest, moji.EINVALID)
			wantError(t, "wrong password", del(tok, `{"password":"wrong horse"}`), http.StatusForbidden, moji.EFORBIDDEN)
			wantError(t, "unknown field", del(tok, `{"password":"correct horse","force":true}`), http.StatusBadRequest, moji.EINVALID)
			wantStatus(t, "still there after refusals", a.getJSON("/api/v1/users/me", tok), http.StatusOK)
			wantStatus(t, "delete", del(tok, `{"password":"correct horse"}`), http.StatusNoContent)
			// At once, not at the hub's next periodic read (30 s).
			rank.waitFor(5*time.Second, "the ranking without the template", func(m map[string]any) bool {
				items, _ := m["ranking"].([]any)
				return m["type"] == moji.EventRankingUpdated && rankingUses(items, tplID) == 0
			})

			wantError(t, "the token after", a.getJSON("/api/v1/users/me", tok), http.StatusUnauthorized, moji.EUNAUTHORIZED)
			wantError(t, "log in after", a.postJSON("/api/v1/users/auth", "", map[string]string{"email": "leaving@example.com", "password": "correct horse"}),
				http.StatusUnauthorized, moji.EUNAUTHORIZED)
			if _, r := a.task("", mine.ID); r.status != http.StatusNotFound {
				t.Errorf("my task after: got %d, want 404", r.status)
			}
			if r := a.do("GET", mine.Result.ImageURL, "", "", nil); r.status != http.StatusNotFound {
				t.Errorf("my picture after (its link still signed): got %d, want 404", r.status)
			}
			wantError(t, "my template after", a.getJSON("/api/v1/emojis/"+tpl, ""), http.StatusNotFound, moji.ENOTFOUND)
			wantStatus(t, "my template's picture after", a.do("GET", face, "", "", nil), http.StatusNotFound)
			if g := a.getJSON("/api/v1/emojis/pages/1", ""); strings.Contains(string(g.body), "going away") {
				t.Errorf("gallery after: still lists the template: %s", g.body)
			}
			// What someone else made with it stays theirs.
			if v, r := a.task(other, theirs.ID); r.status != http.StatusOK || v.State != moji.TaskDone {
				t.Errorf("their task: got %d %s, want 200 done", r.status, v.State)
			}
			wantStatus(t, "their picture", a.do("GET", theirs.Result.ImageURL, "", "", nil), http.StatusOK)
			// The alias and the email are free again.
			a.signup("leaving@example.com", "leaving")
		})
	}
}

// Changing the password: the current one is asked again; every session
// issued before the change ends (a thief's too), the changer's goes on
// with the token the change hands out.
func TestChangePassword(t *testing.T) {
	forEachDialect(t, func(t *testing.T, a *app) {
		tok := a.signup("changer@example.com", "changer")
		other := a.login("changer@example.com", "correct horse") // another device
		change := func(token, body string) resp {
			return a.do("PUT", "/api/v1/users/me/password", token, "application/json", strings.NewReader(body))
		}
		wantError(t, "anonymous", change("", `{"current_password":"correct horse","new_password":"battery staple"}`), http.StatusUnauthorized, moji.EUNAUTHORIZED)
		wantError(t, "no current", change(tok, `{"new_password":"battery staple"}`), http.StatusBadRequest, moji.EINVALID)
		wantError(t, "too short", change(tok, `{"current_password":"correct horse","new_password":"short"}`), http.StatusBadRequest, moji.EINVALID)
		wantError(t, "wrong current", change(tok, `{"current_password":"wrong horse","new_password":"battery staple"}`), http.StatusForbidden, moji.EFORBIDDEN)
		wantStatus(t, "still the old password", a.getJSON("/api/v1/users/me", other), http.StatusOK)
		// The other device has the live connection open.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(a.base, "http")+"/api/v1/ws?token="+other, nil)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer ws.CloseNow()

		r := change(tok, `{"current_password":"correct horse","new_password":"battery staple"}`)
		wantStatus(t, "change", r, http.StatusOK)
		conforms(t, "change", "Auth", r)
		fresh := r.json(t)["access_token"].(string)
		wantStatus(t, "the new token", a.getJSON("/api/v1/users/me", fresh), http.StatusOK)
		for {
			_, _, err := ws.Read(ctx)
			if err != nil {
				if got := websocket.CloseStatus(err); got != 4001 {
					t.Errorf("the other device's connection: got %v, want closed with 4001", err)
				}
				break
			}
		}
		for name, old := range map[string]string{"the changer's old token": tok, "another device's token": other} {
			wantError(t, name, a.getJSON("/api/v1/users/me", old), http.StatusUnauthorized, moji.EUNAUTHORIZED)
			wantError(t, name+" on /ws", a.getJSON("/api/v1/ws?token="+old, ""), http.StatusUnauthorized, moji.EUNAUTHORIZED)
		}
		wantError(t, "log in with the old password", a.postJSON("/api/v1/users/auth", "", map[string]string{"email": "changer@example.com", "password": "correct horse"}),
			http.StatusUnauthorized, moji.EUNAUTHORIZED)
		a.login("changer@example.com", "battery staple")
	})
}
