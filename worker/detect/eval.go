package detect

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"image"
	_ "image/jpeg" // the labelled photos are JPEGs
	_ "image/png"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/igemoji/igemoji/shared/face"
)

// Labelled is a photo with its ground-truth face boxes (x, y, w, h).
type Labelled struct {
	Path  string
	Boxes [][4]float64
}

// LoadImglab reads a dlib imglab XML file (dlib's examples/faces/*.xml);
// photo paths are resolved against the file's folder.
func LoadImglab(path string) ([]Labelled, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ds struct {
		Images []struct {
			File  string `xml:"file,attr"`
			Boxes []struct {
				Top    float64 `xml:"top,attr"`
				Left   float64 `xml:"left,attr"`
				Width  float64 `xml:"width,attr"`
				Height float64 `xml:"height,attr"`
				Ignore bool    `xml:"ignore,attr"`
			} `xml:"box"`
		} `xml:"images>image"`
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	// The files declare ISO-8859-1 but hold only ASCII, which reads the
	// same in any charset.
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	if err := dec.Decode(&ds); err != nil {
		return nil, fmt.Errorf("detect: %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	var out []Labelled
	for _, im := range ds.Images {
		l := Labelled{Path: filepath.Join(dir, filepath.FromSlash(im.File))}
		for _, b := range im.Boxes {
			if !b.Ignore {
				l.Boxes = append(l.Boxes, [4]float64{b.Left, b.Top, b.Width, b.Height})
			}
		}
		out = append(out, l)
	}
	return out, nil
}

// Report is the outcome of Evaluate.
type Report struct {
	Photos, Faces, TP, FP, FN int
	// Elapsed is the time spent in Detect, summed over the photos (decoding
	// not included).
	Elapsed time.Duration
}

// Recall is the share of ground-truth faces found.
func (r Report) Recall() float64 { return ratio(r.TP, r.TP+r.FN) }

// Precision is the share of detections that are faces.
func (r Report) Precision() float64 { return ratio(r.TP, r.TP+r.FP) }

// PerPhoto is the mean detection time per photo.
func (r Report) PerPhoto() time.Duration {
	if r.Photos == 0 {
		return 0
	}
	return r.Elapsed / time.Duration(r.Photos)
}

func (r Report) String() string {
	return fmt.Sprintf("%d photos, %d faces: recall %.3f (%d/%d), precision %.3f (%d/%d), %v per photo",
		r.Photos, r.Faces, r.Recall(), r.TP, r.Faces, r.Precision(), r.TP, r.TP+r.FP, r.PerPhoto().Round(100*time.Microsecond))
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// Evaluate runs detect over the photos and matches its boxes to the
// ground truth at minIoU (see face.Match). detect is usually a Detector's
// Detect, or a closure choosing passes through DetectPasses.
func Evaluate(ctx context.Context, photos []Labelled, minIoU float64,
	detect func(context.Context, image.Image) ([]face.Detection, error)) (Report, error) {
	var r Report
	for _, p := range photos {
		f, err := os.Open(p.Path)
		if err != nil {
			return r, err
		}
		img, _, err := image.Decode(f)
		f.Close()
		if err != nil {
			return r, fmt.Errorf("detect: %s: %w", p.Path, err)
		}
		start := time.Now()
		dets, err := detect(ctx, img)
		r.Elapsed += time.Since(start)
		if err != nil {
			return r, fmt.Errorf("detect: %s: %w", p.Path, err)
		}
		tp, fp, fn := face.Match(dets, p.Boxes, minIoU)
		r.Photos++
		r.Faces += len(p.Boxes)
		r.TP += tp
		r.FP += fp
		r.FN += fn
	}
	return r, nil
}
