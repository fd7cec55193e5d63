//go:build webapp

package web

import "embed"

// The client built by `npm run build` in app/ (make web).
//
//go:embed all:app/dist
var embedded embed.FS

const embeddedRoot = "app/dist"

// Built reports whether the React client is embedded.
const Built = true
