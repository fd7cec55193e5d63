package server

import (
	_ "embed"
	"net/http"
)

// openAPI describes every route (TestOpenAPICoversRoutes keeps the two
// alike; the end-to-end tests check real answers against its schemas).
//
//go:embed openapi.json
var openAPI []byte

// GET /api/v1/openapi.json
func handleOpenAPI(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(openAPI)
}
