// Package api embeds the public API's OpenAPI description, served at
// /api/openapi.yaml.
package api

import _ "embed"

// OpenAPI is openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte
