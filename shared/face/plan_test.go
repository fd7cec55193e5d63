package face

import (
	"errors"
	"math"
	"math/rand"
	"testing"
)

func TestPlanFullFrameOnly(t *testing.T) {
	tests := []struct {
		name string
		w, h int
		opt  PlanOptions
	}{
		// 256 * 20 / 14 = 365: up to that size the full frame already sees
		// a 20-pixel face at the reliable 14 pixels.
		{"small photo", 360, 240, PlanOptions{}},
		{"webcam with big faces only", 1280, 720, PlanOptions{MinFace: 100}},
		{"tiny", 1, 1, PlanOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := PlanPasses(tt.w, tt.h, Back(), tt.opt)
			if len(ps) != 1 {
				t.Fatalf("got %d passes, want 1", len(ps))
			}
			if ps[0].Level != 0 || ps[0].MinFace != 0 || ps[0].MaxFace != 0 {
				t.Errorf("got %+v, want an unbounded full-frame pass", ps[0])
			}
		})
	}
	if ps := PlanPasses(0, 10, Back(), PlanOptions{}); ps != nil {
		t.Errorf("empty image: got %d passes, want none", len(ps))
	}
}

func TestPlanLevels(t *testing.T) {
	tests := []struct {
		name       string
		w, h       int
		levels     int
		maxPasses  int
		finestSide float64 // 256 / (14/20): the finest level's tile side
	}{
		{"dlib photo", 500, 375, 1, 6, 365.7},
		// The group photo: levels at about a third and two thirds
		// of full resolution.
		{"group photo", 2048, 922, 2, 40, 365.7},
		{"phone photo", 4032, 3024, 3, 250, 365.7},
		{"4096 square", 4096, 4096, 3, 320, 365.7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := PlanPasses(tt.w, tt.h, Back(), PlanOptions{})
			levels := 0
			for _, p := range ps {
				levels = max(levels, p.Level)
			}
			if levels != tt.levels {
				t.Errorf("got %d tile levels, want %d", levels, tt.levels)
			}
			if len(ps) > tt.maxPasses {
				t.Errorf("got %d passes, want at most %d", len(ps), tt.maxPasses)
			}
			last := ps[len(ps)-1]
			assertNear(t, "finest tile side", last.Window.Side, tt.finestSide, 0.1)
			if last.MinFace != 0 {
				t.Errorf("finest level: got MinFace %g, want 0 (it keeps everything)", last.MinFace)
			}
		})
	}
}

// Every face from MinFace pixels up to the whole frame, wherever it is,
// must have a pass that sees it at a reliable size, keeps its size and
// holds it whole, away from inner tile edges. Otherwise some face would be
// found by no pass or only as a cut-off part.
func TestPlanCoverage(t *testing.T) {
	spec := Back()
	rng := rand.New(rand.NewSource(1))
	for _, size := range [][2]int{{2048, 922}, {1920, 1280}, {500, 375}, {4096, 3072}, {3000, 400}} {
		w, h := size[0], size[1]
		ps := PlanPasses(w, h, spec, PlanOptions{})
		for range 3000 {
			// Face widths spread evenly on a log scale from 20 pixels to the
			// short side.
			f := 20 * math.Pow(float64(min(w, h))/20, rng.Float64())
			x := rng.Float64() * (float64(w) - f)
			y := rng.Float64() * (float64(h) - f)
			d := face([4]float64{x, y, f, f}, 1)
			ok := false
			for _, p := range ps {
				win := p.Window
				inside := x >= win.X && y >= win.Y && x+f <= win.X+win.Side && y+f <= win.Y+win.Side
				if inside && !p.Cut(d, w, h) && f*p.Scale >= spec.ReliableFace*0.999 {
					ok = true
					break
				}
			}
			if !ok {
				t.Fatalf("%dx%d: no pass holds a %.0f-pixel face at (%.0f, %.0f) whole at a reliable size", w, h, f, x, y)
			}
		}
	}
}

func TestPassCut(t *testing.T) {
	const w, h = 1000, 800
	p := Pass{Window: Window{X: 300, Y: 0, Side: 400}, Level: 1, Scale: 0.64, Margin: 5, MinFace: 20, MaxFace: 100}
	tests := []struct {
		name string
		box  [4]float64
		want bool
	}{
		{"inside", [4]float64{400, 100, 50, 50}, false},
		{"at the left inner edge", [4]float64{302, 100, 50, 50}, true},
		{"at the right inner edge", [4]float64{660, 100, 50, 50}, true},
		{"at the top, the image's edge", [4]float64{400, 0, 50, 50}, false},
		{"at the bottom inner edge", [4]float64{400, 360, 50, 50}, true},
		{"too small for this level", [4]float64{400, 100, 10, 10}, true},
		{"too big for this level", [4]float64{400, 100, 150, 150}, true},
	}
	for _, tt := range tests {
		if got := p.Cut(Detection{Box: tt.box}, w, h); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMerge(t *testing.T) {
	spec := Back()
	const w, h = 2048, 922
	passes := PlanPasses(w, h, spec, PlanOptions{})
	full := face([4]float64{100, 100, 120, 120}, 0.95)
	// The full frame's view of a small face is too small to trust; the
	// tiles see it properly.
	tooSmall := face([4]float64{1000, 500, 60, 60}, 0.7)
	// The same face seen by a coarse tile: merges into the full frame's.
	bigInTile := face([4]float64{104, 98, 120, 120}, 0.9)
	// A small face seen by two fine tiles, with a high score.
	sure1 := face([4]float64{1010, 510, 30, 30}, 0.92)
	sure2 := face([4]float64{1011, 511, 30, 30}, 0.9)
	// A doubtful one: kept only if the second look agrees.
	doubt := face([4]float64{1500, 200, 30, 30}, 0.6)

	find := func(level int, d Detection) int {
		t.Helper()
		for i, p := range passes {
			win := p.Window
			if p.Level == level && d.Box[0] > win.X+p.Margin && d.Box[1] > win.Y+p.Margin &&
				d.Box[0]+d.Box[2] < win.X+win.Side-p.Margin && d.Box[1]+d.Box[3] < win.Y+win.Side-p.Margin {
				return i
			}
		}
		t.Fatalf("no level-%d pass holds %v", level, d.Box)
		return -1
	}
	per := make([][]Detection, len(passes))
	per[0] = []Detection{full, tooSmall}
	per[find(1, bigInTile)] = append(per[find(1, bigInTile)], bigInTile)
	per[find(2, sure1)] = append(per[find(2, sure1)], sure1, sure2)
	per[find(2, doubt)] = append(per[find(2, doubt)], doubt)

	tests := []struct {
		name    string
		confirm bool
		want    int
		checks  int
	}{
		{"second look confirms", true, 3, 1},
		{"second look finds nothing", false, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checks := 0
			got, err := Merge(passes, per, w, h, spec, func(_ Detection, win Window) ([]Detection, error) {
				checks++
				c := doubt.Center()
				if c.X < win.X || c.Y < win.Y || c.X > win.X+win.Side || c.Y > win.Y+win.Side {
					t.Errorf("check window %+v misses the doubtful face", win)
				}
				if tt.confirm {
					return []Detection{face(doubt.Box, 0.7)}, nil
				}
				return nil, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Fatalf("got %d detections %v, want %d", len(got), boxes(got), tt.want)
			}
			if checks != tt.checks {
				t.Errorf("got %d second looks, want %d", checks, tt.checks)
			}
			assertNear(t, "merged big face score", got[0].Score, 0.95, 0)
			assertNear(t, "merged big face x", got[0].Box[0], (0.95*100+0.9*104)/1.85, 1e-9)
			assertNear(t, "small face x", got[1].Box[0], (0.92*1010+0.9*1011)/1.82, 1e-9)
		})
	}

	t.Run("check error", func(t *testing.T) {
		boom := errors.New("boom")
		if _, err := Merge(passes, per, w, h, spec, func(Detection, Window) ([]Detection, error) { return nil, boom }); !errors.Is(err, boom) {
			t.Errorf("got error %v, want %v", err, boom)
		}
	})
	t.Run("no check", func(t *testing.T) {
		got, err := Merge(passes, per, w, h, spec, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Errorf("got %d detections, want 3 (doubtful kept unchecked)", len(got))
		}
	})
}

func TestClip(t *testing.T) {
	d := Clip(Detection{Box: [4]float64{-10, 90, 50, 50}}, 100, 100)
	if want := [4]float64{0, 90, 40, 10}; d.Box != want {
		t.Errorf("got %v, want %v", d.Box, want)
	}
}

// Without tiles (a small photo) doubtful full-frame detections get the
// second look too; confident ones do not.
func TestMergeFullFrameCheck(t *testing.T) {
	spec := Back()
	passes := PlanPasses(300, 200, spec, PlanOptions{})
	sure := face([4]float64{10, 10, 80, 80}, 0.9)
	doubt := face([4]float64{150, 50, 60, 60}, 0.6)
	per := [][]Detection{{sure, doubt}}
	tests := []struct {
		name    string
		confirm bool
		want    int
	}{
		{"confirmed", true, 2},
		{"not confirmed", false, 1},
	}
	for _, tt := range tests {
		checks := 0
		got, err := Merge(passes, per, 300, 200, spec, func(_ Detection, win Window) ([]Detection, error) {
			checks++
			if tt.confirm {
				return []Detection{face(doubt.Box, 0.8)}, nil
			}
			return []Detection{face(doubt.Box, 0.5)}, nil // too weak
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.want || checks != 1 {
			t.Errorf("%s: got %d detections after %d checks, want %d after 1", tt.name, len(got), checks, tt.want)
		}
	}
}

func TestSuppressOnBodies(t *testing.T) {
	big := face([4]float64{100, 100, 200, 200}, 0.95)
	tests := []struct {
		name string
		big  Detection
		d    Detection
		want bool // kept
	}{
		{"buckle below the face", big, face([4]float64{190, 800, 30, 30}, 0.6), false},
		{"confident small face below", big, face([4]float64{190, 800, 30, 30}, 0.9), true},
		{"small face beside", big, face([4]float64{600, 150, 30, 30}, 0.6), true},
		{"small face above", big, face([4]float64{190, 0, 30, 30}, 0.6), true},
		{"child's face below", big, face([4]float64{150, 450, 120, 120}, 0.6), true},
		{"far below the body", big, face([4]float64{190, 1400, 30, 30}, 0.6), true},
		// A face lying on its side (rolled 90°, head to the right): its body
		// is to the left.
		{"body of a lying face", rolled(big, math.Pi/2), face([4]float64{-500, 185, 30, 30}, 0.6), false},
		{"below a lying face", rolled(big, math.Pi/2), face([4]float64{190, 800, 30, 30}, 0.6), true},
	}
	for _, tt := range tests {
		got := SuppressOnBodies([]Detection{tt.big, tt.d}, 0.8)
		if kept := len(got) == 2; kept != tt.want {
			t.Errorf("%s: got kept=%v, want %v", tt.name, kept, tt.want)
		}
	}
}

// rolled turns d's keypoints about its centre by angle, clockwise on a
// Y-down screen (the usual rotation matrix applied to (x, y)), and updates
// its roll.
func rolled(d Detection, angle float64) Detection {
	c := d.Center()
	sin, cos := math.Sincos(angle)
	for k, p := range d.Keypoints {
		x, y := p.X-c.X, p.Y-c.Y
		d.Keypoints[k] = Point{c.X + x*cos - y*sin, c.Y + x*sin + y*cos}
	}
	d.rollFromEyes()
	return d
}
