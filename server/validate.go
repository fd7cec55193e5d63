package server

import (
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
	"golang.org/x/text/unicode/norm"

	"github.com/igemoji/igemoji/shared/moji"
)

// Input rules. Text is NFC-normalized first so that the same visible name
// typed on two keyboards is the same name.
const (
	maxEmailLen    = 254
	minPasswordLen = 8
	maxPasswordLen = 72 // bcrypt reads no further
	minAliasLen    = 2
	maxAliasLen    = 30
	maxNameLen     = 40  // characters as people count them: 👨‍👩‍👧‍👦 is one
	maxNameRunes   = 200 // code points: the column's size
	maxMarksInRow  = 4   // nonspacing marks stacked on one letter: Burmese and Tibetan use up to 3
)

func cleanEmail(s string) (string, error) {
	s = norm.NFC.String(strings.TrimSpace(s))
	if s == "" {
		return "", moji.Errorf(moji.EINVALID, "Email is required.")
	}
	if len(s) > maxEmailLen {
		return "", moji.Errorf(moji.EINVALID, "Email is longer than %d characters.", maxEmailLen)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || hasBadRunes(s) || strings.IndexFunc(s, invisible) >= 0 {
		return "", moji.Errorf(moji.EINVALID, "Email is not a valid address.")
	}
	_, domain, _ := strings.Cut(s, "@")
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", moji.Errorf(moji.EINVALID, "Email is not a valid address.")
	}
	return s, nil
}

// checkPassword checks a new password in the form it is hashed in (see
// hashPassword).
func checkPassword(p string) error {
	p = norm.NFC.String(p)
	switch {
	case utf8.RuneCountInString(p) < minPasswordLen:
		return moji.Errorf(moji.EINVALID, "Password must be at least %d characters.", minPasswordLen)
	case len(p) > maxPasswordLen:
		return moji.Errorf(moji.EINVALID, "Password must be at most %d bytes.", maxPasswordLen)
	case !utf8.ValidString(p):
		return moji.Errorf(moji.EINVALID, "Password must be valid UTF-8 text.")
	}
	return nil
}

// cleanAlias allows letters and digits of any script (Korean aliases are
// welcome), their combining marks, and . _ - inside; it starts with a
// letter or digit. An alias names a person to others, so look-alike forms
// are folded (see foldCompat): fullwidth ＡＤＭＩＮ and mathematical 𝓪𝓭𝓶𝓲𝓷
// are ADMIN and admin.
func cleanAlias(s string) (string, error) {
	s = foldCompat(strings.TrimSpace(s))
	n := utf8.RuneCountInString(s)
	if n < minAliasLen || n > maxAliasLen {
		return "", moji.Errorf(moji.EINVALID, "Alias must be %d to %d characters.", minAliasLen, maxAliasLen)
	}
	// Invisible marks (a variation selector, a combining grapheme joiner)
	// would make "admin" and "ad͏min" two aliases that look the same.
	if strings.IndexFunc(s, invisible) >= 0 {
		return "", moji.Errorf(moji.EINVALID, "Alias may not hold invisible characters.")
	}
	marks := 0 // nonspacing, in a row: spacing ones (Mc) take room of their own
	for i, r := range s {
		mark := unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)
		if !unicode.Is(unicode.Mn, r) {
			marks = 0
		} else if marks++; marks > maxMarksInRow {
			return "", moji.Errorf(moji.EINVALID, "Alias may not stack more than %d marks on one letter.", maxMarksInRow)
		}
		ok := unicode.IsLetter(r) || unicode.IsDigit(r) ||
			(i > 0 && mark) ||
			(i > 0 && i < len(s)-1 && (r == '.' || r == '_' || r == '-'))
		if !ok {
			return "", moji.Errorf(moji.EINVALID, "Alias may hold only letters, digits and . _ - (not at the ends).")
		}
	}
	if !oneWritingSystem(s) {
		return "", moji.Errorf(moji.EINVALID, "Alias may not mix alphabets such as Latin, Cyrillic and Greek, whose letters look alike.")
	}
	return s, nil
}

// Mixes that writing systems really use (Unicode TR39's "highly
// restrictive" level): Latin with Japanese, Korean or Chinese.
var scriptMixes = []map[string]bool{
	{"Latin": true, "Han": true, "Hiragana": true, "Katakana": true},
	{"Latin": true, "Han": true, "Hangul": true},
	{"Latin": true, "Han": true, "Bopomofo": true},
}

// oneWritingSystem reports whether s's letters come from one script, or
// from a mix a language uses: "аlice" with a Cyrillic а passes for
// "alice" and is refused; "김minsu" is fine.
func oneWritingSystem(s string) bool {
	used := map[string]bool{}
	for _, r := range s {
		for name, t := range unicode.Scripts {
			if name != "Common" && name != "Inherited" && unicode.Is(t, r) {
				used[name] = true
				break
			}
		}
	}
	if len(used) <= 1 {
		return true
	}
	for _, mix := range scriptMixes {
		all := true
		for name := range used {
			all = all && mix[name]
		}
		if all {
			return true
		}
	}
	return false
}

// foldCompat is NFKC, as identifiers are normalized, except for Hangul
// compatibility jamo: NFKC turns ㅋㅋㅋ, a common Korean handle, into
// leading jamo that render as something else.
func foldCompat(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 0x3131 && r <= 0x318E || r >= 0xFFA0 && r <= 0xFFDC {
			b.WriteRune(r)
			continue
		}
		b.WriteString(norm.NFKC.String(string(r)))
	}
	return norm.NFC.String(b.String())
}

// cleanName accepts any printable text (emoji included) for a template name.
func cleanName(s string) (string, error) {
	// Direction marks, which right-to-left keyboards insert, are dropped;
	// the overrides that reorder text are refused below.
	s = strings.Map(func(r rune) rune {
		if r == 0x200E || r == 0x200F || r == 0x061C {
			return -1
		}
		return r
	}, s)
	s = norm.NFC.String(strings.TrimSpace(s))
	if s == "" {
		return "", moji.Errorf(moji.EINVALID, "Name is required.")
	}
	if nameLength(s) > maxNameLen {
		return "", moji.Errorf(moji.EINVALID, "Name must be at most %d characters.", maxNameLen)
	}
	if utf8.RuneCountInString(s) > maxNameRunes {
		return "", moji.Errorf(moji.EINVALID, "Name is too long: its characters are made of more than %d Unicode code points.", maxNameRunes)
	}
	if !utf8.ValidString(s) || hasBadRunes(s) {
		return "", moji.Errorf(moji.EINVALID, "Name holds control or direction-override characters.")
	}
	if !hasVisible(s) {
		return "", moji.Errorf(moji.EINVALID, "Name must show at least one letter, digit or symbol.")
	}
	return s, nil
}

// nameLength counts characters as people do: grapheme clusters, with
// Unicode 15.1's conjuncts (rule GB9c: क्ष is one), as browsers count them
// and uniseg, which follows Unicode 15.0, does not yet.
func nameLength(s string) int {
	n := 0
	var prev string
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		c := g.Str()
		if n > 0 && joinsConjunct(prev, c) {
			prev += c
			continue
		}
		n++
		prev = c
	}
	return n
}

// linkers are the viramas GB9c joins conjuncts by (Indic_Conjunct_Break
// = Linker), with their scripts.
var linkers = map[rune]*unicode.RangeTable{
	0x094D: unicode.Devanagari, 0x09CD: unicode.Bengali, 0x0ACD: unicode.Gujarati,
	0x0B4D: unicode.Oriya, 0x0C4D: unicode.Telugu, 0x0D4D: unicode.Malayalam,
}

// joinsConjunct reports whether next continues prev's conjunct: prev ends
// in a linker (then perhaps other marks or a zero-width joiner) and next
// starts with a letter of its script. It may join a little more than
// GB9c (an independent vowel), never less: the server is not to be
// stricter than the form.
func joinsConjunct(prev, next string) bool {
	first, _ := utf8.DecodeRuneInString(next)
	for i := len(prev); i > 0; {
		r, size := utf8.DecodeLastRuneInString(prev[:i])
		i -= size
		if script, ok := linkers[r]; ok {
			return unicode.IsLetter(first) && unicode.Is(script, first)
		}
		if r != 0x200D && !unicode.Is(unicode.Mn, r) {
			return false
		}
	}
	return false
}

// invisible reports whether r shows nothing by itself (about Unicode's
// default ignorable code points): zero-width spaces and joiners, soft
// hyphens, variation selectors, the Hangul fillers, …
func invisible(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

// blankLetter reports the letters that show nothing: the Hangul fillers.
func blankLetter(r rune) bool { return r == 0x115F || r == 0x1160 || r == 0x3164 || r == 0xFFA0 }

// hasVisible reports whether s shows anything: a letter, digit, symbol
// (emoji) or punctuation, not only spaces, zero-width formatting characters
// or combining marks.
func hasVisible(s string) bool {
	for _, r := range s {
		if blankLetter(r) || r == 0x2800 { // and blank Braille, a symbol that shows nothing
			continue
		}
		if unicode.In(r, unicode.L, unicode.N, unicode.S, unicode.P) {
			return true
		}
	}
	return false
}

// hasBadRunes finds control characters and the bidirectional embeddings,
// overrides and isolates that can make text display differently from what
// it is.
func hasBadRunes(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == utf8.RuneError {
			return true
		}
	}
	return false
}

// query is the request's query string, refusing a malformed one: URL.Query
// drops a pair it cannot decode, which would turn "value=%ZZ" into a
// missing value and a misleading error.
func query(r *http.Request) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, moji.Errorf(moji.EINVALID, "The query string is malformed (a bad %%-escape or a semicolon).")
	}
	return q, nil
}
