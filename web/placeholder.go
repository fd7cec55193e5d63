//go:build !webapp

package web

import "embed"

//go:embed static
var embedded embed.FS

const embeddedRoot = "static"

// Built reports whether the React client is embedded.
const Built = false
