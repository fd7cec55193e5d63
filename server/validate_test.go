package server

import "testing"

func TestCleanAlias(t *testing.T) {
	for _, tt := range []struct {
		in, want string // want "": refused
	}{
		{"kim", "kim"},
		{"  김민수 ", "김민수"},
		{"o.brien_x-1", "o.brien_x-1"},
		{"ＡＤＭＩＮ", "ADMIN"},
		{"𝓪𝓭𝓶𝓲𝓷", "admin"},
		{"Ünïcode", "Ünïcode"},
		{"e\u0301a", "éa"}, // a combining mark after a letter, composed
		{"ㅋㅋㅋ", "ㅋㅋㅋ"},     // compatibility jamo kept as typed
		{"ｊｏｈｎ", "john"},
		{"\u0301\u0301", ""},
		{"\u0301ab", ""},
		{".ab", ""},
		{"ab-", ""},
		{"a b", ""},
		{"a", ""},
		{"ab\u200b", ""},
		{"x'); DROP TABLE users;--", ""},
		// Scripts: one, or a mix a language uses; never look-alike alphabets.
		{"алиса", "алиса"},
		{"김minsu", "김minsu"},
		{"田中taro", "田中taro"},
		{"たなか_タナカ", "たなか_タナカ"},
		{"аlice", ""},       // Cyrillic а + Latin: passes for "alice"
		{"pаypal", ""},      // the same inside
		{"οlga", ""},        // Greek ο + Latin
		{"김а", ""},          // Hangul + Cyrillic
		{"ab12", "ab12"},    // digits are any script's
		{"\ua4eedmin", ""},  // Lisu ꓮ, a script the rule has no name for
		{"\u2ca3aypal", ""}, // Coptic ⲣ
		{"ꓮꓱꓡ", "ꓮꓱꓡ"},      // one script, whichever
		{"admin\u3164", ""}, // a Hangul filler shows nothing
		{"\u3164\u3164", ""},
	} {
		got, err := cleanAlias(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("cleanAlias(%q): got %q, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("cleanAlias(%q): got %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestCleanName(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"Cats 🐱", true},
		{"🙂", true},
		{"내 템플릿", true},
		{"!!!", true},
		{"", false},
		{"   ", false},
		{"\u200b\u200b", false},       // zero-width spaces only
		{"\u0301\u0301", false},       // combining marks only
		{"שלום\u200f 1", true},        // a right-to-left mark, dropped
		{"\u200f", false},             // only that mark
		{"\u3164\u3164", false},       // Hangul fillers
		{"\u2800", false},             // blank Braille
		{"abc\u202edef", false},       // right-to-left override
		{"tab\there", false},          // control character
		{string([]byte{0xff}), false}, // not UTF-8
	} {
		if _, err := cleanName(tt.in); (err == nil) != tt.ok {
			t.Errorf("cleanName(%q): got error %v, want ok %v", tt.in, err, tt.ok)
		}
	}
}
