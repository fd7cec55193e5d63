package detect

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"math/rand/v2"
	"testing"

	"github.com/disintegration/imaging"

	"github.com/igemoji/igemoji/shared/assets/assetstest"
	"github.com/igemoji/igemoji/shared/face"
)

// crowd builds a 2048x922 photo of many small faces: the faces of the demo
// photos, each cut out with its surroundings and shrunk so that the face is
// minSize to maxSize pixels wide, pasted on a grid over a plain wall. It returns the photo and the faces' boxes. This is the case the
// small-face pass exists for (a wide group photo whose faces the full
// frame sees at 4-8 model pixels), which no development photo here has.
func crowd(t testing.TB, d *Detector, n int, minSize, maxSize float64) (image.Image, [][4]float64) {
	t.Helper()
	var cut []image.Image
	var boxes [][4]float64 // the face within each cut-out
	for i := 1; i <= 6; i++ {
		img := sample(t, i)
		dets, err := d.DetectPasses(context.Background(), img, face.PlanPasses(img.Bounds().Dx(), img.Bounds().Dy(), d.Spec(), face.PlanOptions{})[:1])
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range dets {
			side := 1.8 * f.Box[2]
			cx, cy := f.Box[0]+f.Box[2]/2, f.Box[1]+f.Box[3]/2
			r := image.Rect(int(cx-side/2), int(cy-side/2), int(cx+side/2), int(cy+side/2)).Intersect(img.Bounds())
			cut = append(cut, imaging.Crop(img, r))
			boxes = append(boxes, [4]float64{f.Box[0] - float64(r.Min.X), f.Box[1] - float64(r.Min.Y), f.Box[2], f.Box[3]})
		}
	}
	if len(cut) < 10 {
		t.Fatalf("got %d faces from the demo photos, want at least 10", len(cut))
	}
	const w, h = 2048, 922
	canvas := image.NewNRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(7, uint64(n)))
	// A wall: a soft gradient with grain, and no face of its own.
	for y := range h {
		for x := range w {
			v := 90 + 80*x/w + rng.IntN(12)
			canvas.SetNRGBA(x, y, color.NRGBA{uint8(v), uint8(v * 9 / 10), uint8(70 + 60*y/h), 255})
		}
	}
	cols := 10
	rows := (n + cols - 1) / cols
	var truth [][4]float64
	for i := range n {
		k := i % len(cut)
		size := minSize + rng.Float64()*(maxSize-minSize)
		s := size / boxes[k][2]
		src := cut[k].Bounds()
		m := imaging.Resize(cut[k], int(float64(src.Dx())*s+0.5), 0, imaging.Lanczos)
		cw, ch := float64(w)/float64(cols), float64(h)/float64(rows)
		x := int(float64(i%cols)*cw + (cw-float64(m.Bounds().Dx()))*rng.Float64())
		y := int(float64(i/cols)*ch + (ch-float64(m.Bounds().Dy()))*rng.Float64())
		draw.Draw(canvas, m.Bounds().Add(image.Pt(x, y)), m, image.Point{}, draw.Src)
		b := boxes[k]
		truth = append(truth, [4]float64{float64(x) + b[0]*s, float64(y) + b[1]*s, b[2] * s, b[3] * s})
	}
	return canvas, truth
}

// TestSmallFacesCrowd: on crowds of small faces the full frame alone finds
// few, every tile finds nearly all, and the staged plan (tiles only where
// a coarser level found small faces) finds as many as every tile.
func TestSmallFacesCrowd(t *testing.T) {
	lib, model := assetstest.NPMFile(t, ortLibrary()), assetstest.NPMFile(t, backModel)
	dets := map[face.Staging]*Detector{}
	for _, m := range []face.Staging{face.StageFullFrame, face.StageAll, face.StageLeads} {
		d, err := New(lib, model, Options{Staging: m})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		dets[m] = d
	}
	for _, tc := range []struct {
		name             string
		n                int
		minSize, maxSize float64
	}{
		{"30 faces of 40-80 px", 30, 40, 80},
		{"30 faces of 28-50 px", 30, 28, 50},
		{"40 faces of 20-32 px", 40, 20, 32},
		{"30 faces of 24-120 px", 30, 24, 120},
		{"20 faces of 30-170 px", 20, 30, 170},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, truth := crowd(t, dets[face.StageAll], tc.n, tc.minSize, tc.maxSize)
			found := map[face.Staging]int{}
			for _, m := range []face.Staging{face.StageFullFrame, face.StageAll, face.StageLeads} {
				got, st, err := dets[m].DetectStats(context.Background(), img)
				if err != nil {
					t.Fatal(err)
				}
				tp, fp, fn := face.Match(got, truth, 0.4)
				t.Logf("%s: found %d of %d, %d false (%d of %d passes)", m, tp, tp+fn, fp, st.Passes, st.Planned)
				found[m] = tp
				if fp > 3 {
					t.Errorf("%s: got %d false faces, want at most 3", m, fp)
				}
			}
			if all := found[face.StageAll]; all < len(truth)*3/4 || found[face.StageFullFrame] >= all {
				t.Errorf("every tile found %d of %d faces and the full frame %d; want at least 3/4 and more than the full frame", all, len(truth), found[face.StageFullFrame])
			}
			if found[face.StageLeads] < found[face.StageAll] {
				t.Errorf("staged tiles found %d faces, every tile %d; want as many", found[face.StageLeads], found[face.StageAll])
			}
		})
	}
}
