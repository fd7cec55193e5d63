package server

import (
	"strings"
	"testing"
)

// wantCleaned checks clean(in): want, or refused where want is "".
func wantCleaned(t *testing.T, name string, clean func(string) (string, error), in, want string) {
	t.Helper()
	got, err := clean(in)
	switch {
	case want == "" && err == nil:
		t.Errorf("%s(%q): got %q, want an error", name, in, got)
	case want != "" && (err != nil || got != want):
		t.Errorf("%s(%q): got %q, %v; want %q", name, in, got, err, want)
	}
}

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
		// Invisible marks would make a second "admin" (look-alike check
		// compares what shows, and these show nothing).
		{"ad\u034fmin", ""},                            // combining grapheme joiner
		{"admin\ufe0f", ""},                            // variation selector 16
		{"bo\U000E0100b", ""},                          // variation selector 17
		{"\u1780\u17b4\u1781", ""},                     // a Khmer inherent vowel, shown as nothing
		{"a\u0301\u0301\u0301\u0301\u0301\u0301b", ""}, // six marks (five once á is composed)
		{"မြို့သား", "မြို့သား"},                       // Burmese: a spacing mark and three others
		{"བསྒྲུབས", "བསྒྲུབས"},                         // Tibetan: stacked consonants
		{"nguye\u0323\u0302n", "nguyện"},               // Vietnamese: two marks, composed
		{"\u0915\u094d\u0937\u093f", "क्षि"},           // Devanagari: marks on letters
	} {
		wantCleaned(t, "cleanAlias", cleanAlias, tt.in, tt.want)
	}
}

func TestCleanEmail(t *testing.T) {
	for _, tt := range []struct {
		in, want string // want "": refused
	}{
		{" kim@example.com ", "kim@example.com"},
		{"김@예시.한국", "김@예시.한국"},
		{"alice\u200b@example.com", ""}, // zero-width space
		{"alice@exam\u00adple.com", ""}, // soft hyphen
		{"bob\ufe0f@example.com", ""},   // variation selector
		{"eve@example.com\u202e", ""},   // direction override
		{"no-at.example.com", ""},
		{"a@localhost", ""},
	} {
		wantCleaned(t, "cleanEmail", cleanEmail, tt.in, tt.want)
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
		// Length in characters as people count them.
		{strings.Repeat("👨‍👩‍👧‍👦", 6), true}, // 6 characters, 42 code points
		{strings.Repeat("🇰🇷", 21), true},     // 21 flags
		{strings.Repeat("가", 40), true},
		{strings.Repeat("가", 41), false},
		{strings.Repeat("👨‍👩‍👧‍👦", 29), false}, // 29 characters, but 203 code points
		{strings.Repeat("क्ष", 40), true},      // conjuncts, one character each (Unicode 15.1), as browsers count
		{strings.Repeat("क्ष", 41), false},
		{strings.Repeat("क्\u200dष", 40), true}, // with a zero-width joiner
	} {
		if _, err := cleanName(tt.in); (err == nil) != tt.ok {
			t.Errorf("cleanName(%q): got error %v, want ok %v", tt.in, err, tt.ok)
		}
	}
}
