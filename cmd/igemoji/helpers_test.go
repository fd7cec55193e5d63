package main

import (
	"hash/crc32"
	"net/url"
)

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

func urlEscape(s string) string { return url.QueryEscape(s) }
