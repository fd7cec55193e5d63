package server

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/igemoji/igemoji/shared/config"
	"github.com/igemoji/igemoji/shared/metrics"
)

// The description names every route the server has, with its methods, and
// no other.
func TestOpenAPICoversRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi: got %q, want 3.1.0", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if method != "parameters" {
				documented = append(documented, strings.ToUpper(method)+" "+path)
			}
		}
	}
	s := New(&config.Config{Metrics: true, BcryptCost: 4}, slog.New(slog.DiscardHandler), []byte("0123456789abcdef0123456789abcdef"), Deps{Metrics: metrics.New()})
	var routed []string
	err := chi.Walk(s.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		// chi's pattern for the rest of a path is *; the description names it.
		route = strings.Replace(route, "/media/*", "/media/{key}", 1)
		routed = append(routed, method+" "+strings.TrimSuffix(route, "/"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(documented)
	slices.Sort(routed)
	if !slices.Equal(documented, routed) {
		t.Errorf("openapi.json and the router differ:\n got  %q\n want %q", documented, routed)
	}
}
