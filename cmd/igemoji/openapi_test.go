package main

import (
	"bytes"
	"os"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/igemoji/igemoji/shared/store"
)

// apiSchemas are the schemas of server/openapi.json, the description that
// clients read; the end-to-end tests check real answers against them.
var apiSchemas = struct {
	sync.Mutex
	c        *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema
}{compiled: map[string]*jsonschema.Schema{}}

func apiSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	apiSchemas.Lock()
	defer apiSchemas.Unlock()
	if apiSchemas.c == nil {
		b, err := os.ReadFile("../../server/openapi.json")
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("openapi.json: %v", err)
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource("openapi.json", doc); err != nil {
			t.Fatal(err)
		}
		apiSchemas.c = c
	}
	sch := apiSchemas.compiled[name]
	if sch == nil {
		var err error
		if sch, err = apiSchemas.c.Compile("openapi.json#/components/schemas/" + name); err != nil {
			t.Fatalf("openapi.json schema %s: %v", name, err)
		}
		apiSchemas.compiled[name] = sch
	}
	return sch
}

// conforms checks r's body against the named schema of openapi.json.
func conforms(t *testing.T, what, schema string, r resp) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.body))
	if err != nil {
		t.Errorf("%s: not JSON: %v: %s", what, err, r.body)
		return
	}
	if err := apiSchema(t, schema).Validate(v); err != nil {
		t.Errorf("%s: the answer is not what openapi.json says (%s): %v\n%s", what, schema, err, r.body)
	}
}

func TestOpenAPIServed(t *testing.T) {
	a := startApp(t, store.SQLite)
	r := a.getJSON("/api/v1/openapi.json", "")
	wantStatus(t, "openapi.json", r, 200)
	if b, _ := os.ReadFile("../../server/openapi.json"); !bytes.Equal(r.body, b) {
		t.Errorf("openapi.json: got %d bytes, want server/openapi.json's %d", len(r.body), len(b))
	}
}
