package server

import "testing"

func TestSafeHost(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"igemoji.example", "igemoji.example"},
		{"igemoji.example:8080", "igemoji.example:8080"},
		{"127.0.0.1:18931", "127.0.0.1:18931"},
		{"[::1]:8080", "[::1]:8080"},
		{"[::1]", "[::1]"},
		{"evil.example;script-src'unsafe-inline'", "localhost"},
		{"evil.example:80;x", "localhost"},
		{"evil.example:99999", "localhost"},
		{"a b", "localhost"},
		{"", "localhost"},
		{":8080", "localhost"},
		{"[not-an-ip]:80", "localhost"},
		{"[1.2.3.4]", "localhost"},
		{"igemoji_web:8080", "igemoji_web:8080"},
		{"example.com:", "example.com:"},
		{"example.com.", "example.com."},
		{"[fe80::1%25eth0]:8080", "[fe80::1%25eth0]:8080"},
		{"[fe80::1%25x;script-src'unsafe-inline']", "localhost"},
		{"[fe80::1%25x\"y]:80", "localhost"},
		{"[::ffff:127.0.0.1]", "[::ffff:127.0.0.1]"},
		{"ex\"ample", "localhost"},
	} {
		if got := safeHost(tt.in); got != tt.want {
			t.Errorf("safeHost(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
