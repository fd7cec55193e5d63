// Package builtin builds IGE MOJI's built-in emoji templates, seeded at first
// start, from openly licensed emoji sets fetched at build time.
//
// The sets come from npm packages in Iconify JSON format, pinned in
// shared/assets/npm.lock and fetched by shared/assets/fetch.sh (`make
// assets`) into a cache folder, which Load reads.
package builtin

import (
	"errors"
	"fmt"
	"image"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/igemoji/igemoji/shared/moji"
)

// Set is one built-in template ready to seed.
type Set struct {
	Key         string // stable identity for idempotent seeding; never shown
	Name        string
	Attribution string
	Images      map[moji.Expression]*image.NRGBA
}

// source is where one built-in template comes from.
type source struct {
	key         string
	name        string
	attribution string
	// pkg is the npm package as NAME@VERSION, which must match a line of
	// shared/assets/npm.lock; fetch.sh extracts it to CACHEDIR/pkg.
	pkg string
	// icons names the set's icon for each class. Every name exists in both
	// sets, so the two templates show the same faces in two styles.
	icons map[moji.Expression]string
}

// faces are the icons chosen per class: clear at small size, and drawable by
// oksvg in both sets (no clipping, no gradient inheritance).
var faces = map[moji.Expression]string{
	moji.Neutral:   "neutral-face",
	moji.Happy:     "grinning-face-with-smiling-eyes",
	moji.Sad:       "crying-face",
	moji.Angry:     "pouting-face", // the red angry face; an alias of enraged-face in Noto
	moji.Surprised: "astonished-face",
	moji.Fearful:   "fearful-face",
	moji.Disgusted: "nauseated-face",
}

// sources lists the built-in templates in the order Load returns them.
var sources = []source{
	{
		key:         "fluent-flat",
		name:        "Fluent Flat",
		attribution: "Fluent Emoji by Microsoft, MIT licence",
		pkg:         "@iconify-json/fluent-emoji-flat@1.2.6",
		icons:       faces,
	},
	{
		key:         "noto-color",
		name:        "Noto Color",
		attribution: "Noto Emoji by Google, Apache-2.0 licence",
		pkg:         "@iconify-json/noto@1.2.9",
		icons:       faces,
	},
}

// Load reads the iconify JSON icon sets from cacheDir (the CACHEDIR of
// fetch.sh), rasterizes the chosen icon for each class at size x size pixels
// with straight alpha, and returns the sets in a fixed order. A missing file
// gives an error that names the file and says to run `make assets`.
func Load(cacheDir string, size int) ([]Set, error) {
	if size <= 0 || size > maxSize {
		return nil, fmt.Errorf("builtin: image size %d out of range 1..%d", size, maxSize)
	}
	sets := make([]Set, 0, len(sources))
	for _, src := range sources {
		s, err := load(cacheDir, size, src)
		if err != nil {
			return nil, err
		}
		sets = append(sets, s)
	}
	return sets, nil
}

func load(cacheDir string, size int, src source) (Set, error) {
	file := filepath.Join(cacheDir, filepath.FromSlash(src.pkg), "icons.json")
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return Set{}, fmt.Errorf("builtin: template %q: %s is missing; run `make assets` to fetch the emoji sets (%w)", src.name, file, fs.ErrNotExist)
	}
	if err != nil {
		return Set{}, fmt.Errorf("builtin: template %q: %w", src.name, err)
	}
	icons, err := parseIconSet(data)
	if err != nil {
		return Set{}, fmt.Errorf("builtin: template %q: %s: %w; run `make assets` again after deleting the folder", src.name, file, err)
	}
	set := Set{
		Key:         src.key,
		Name:        src.name,
		Attribution: src.attribution,
		Images:      make(map[moji.Expression]*image.NRGBA, len(moji.Expressions)),
	}
	for _, e := range moji.Expressions {
		name, ok := src.icons[e]
		if !ok {
			return Set{}, fmt.Errorf("builtin: template %q has no icon for %s", src.name, e)
		}
		svg, err := icons.svg(name)
		if err != nil {
			return Set{}, fmt.Errorf("builtin: template %q, %s: %s: %w", src.name, e, file, err)
		}
		img, err := render(svg, size)
		if err != nil {
			return Set{}, fmt.Errorf("builtin: template %q, %s: icon %q: %w", src.name, e, name, err)
		}
		set.Images[e] = img
	}
	return set, nil
}

// Keys lists the built-in templates' keys, so a caller can tell whether all
// are seeded without rasterizing anything.
func Keys() []string {
	keys := make([]string, len(sources))
	for i, s := range sources {
		keys[i] = s.key
	}
	return keys
}
