package face

import (
	"math"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func assertNear(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if !near(got, want, tol) {
		t.Errorf("%s: got %.6g, want %.6g (±%g)", what, got, want, tol)
	}
}

func TestAnchorCounts(t *testing.T) {
	tests := []struct {
		name      string
		spec      Spec
		first     Anchor // the first anchor of the fine grid
		fine      int    // anchors in the fine grid
		coarseAt  Anchor // the first anchor of the coarse grid
		perCoarse int    // anchors per coarse cell
	}{
		// Back: stride 16 on 256 is a 16x16 grid, 2 anchors per cell; the
		// three stride-32 layers share an 8x8 grid, 6 anchors per cell.
		{"back", Back(), Anchor{0.5 / 16, 0.5 / 16, 1, 1}, 512, Anchor{0.5 / 8, 0.5 / 8, 1, 1}, 6},
		// Front: strides 8 and 16 on 128 give the same grids.
		{"front", Front(), Anchor{0.5 / 16, 0.5 / 16, 1, 1}, 512, Anchor{0.5 / 8, 0.5 / 8, 1, 1}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.spec.Anchors
			if len(a) != 896 {
				t.Fatalf("got %d anchors, want 896", len(a))
			}
			if a[0] != tt.first || a[1] != tt.first {
				t.Errorf("first cell: got %+v %+v, want both %+v", a[0], a[1], tt.first)
			}
			if got, want := a[2], (Anchor{1.5 / 16, 0.5 / 16, 1, 1}); got != want {
				t.Errorf("second cell: got %+v, want %+v", got, want)
			}
			for i := 0; i < tt.perCoarse; i++ {
				if got := a[tt.fine+i]; got != tt.coarseAt {
					t.Errorf("coarse anchor %d: got %+v, want %+v", i, got, tt.coarseAt)
				}
			}
			if got, want := a[895], (Anchor{7.5 / 8, 7.5 / 8, 1, 1}); got != want {
				t.Errorf("last anchor: got %+v, want %+v", got, want)
			}
		})
	}
}

// Without fixed_anchor_size the anchors carry SSD's scales: min_scale for
// the first layer, then linear steps to max_scale, each layer adding an
// anchor of scale sqrt(s_i*s_(i+1)).
func TestAnchorScales(t *testing.T) {
	o := FrontAnchorOptions()
	o.FixedAnchorSize = false
	a := GenerateAnchors(o)
	s := func(i int) float64 { return 0.1484375 + (0.75-0.1484375)*float64(i)/3 }
	tests := []struct {
		idx  int
		want float64
	}{
		{0, s(0)},
		{1, math.Sqrt(s(0) * s(1))},
		{512 + 0, s(1)},
		{512 + 1, math.Sqrt(s(1) * s(2))},
		{512 + 2, s(2)},
		{512 + 3, math.Sqrt(s(2) * s(3))},
		{512 + 4, s(3)},
		{512 + 5, math.Sqrt(s(3) * 1)}, // the last layer interpolates towards 1
	}
	for _, tt := range tests {
		assertNear(t, "anchor width", a[tt.idx].W, tt.want, 1e-12)
		assertNear(t, "anchor height", a[tt.idx].H, tt.want, 1e-12)
	}
}

// raw builds the outputs of a pass in which only anchor idx fires.
func raw(spec Spec, idx int, logit float32, reg []float32) (scores, regs []float32) {
	scores = make([]float32, len(spec.Anchors))
	for i := range scores {
		scores[i] = -10
	}
	scores[idx] = logit
	regs = make([]float32, len(spec.Anchors)*spec.NumCoords)
	copy(regs[idx*spec.NumCoords:], reg)
	return scores, regs
}

func TestDecode(t *testing.T) {
	spec := Back()
	// Anchor 513 is the second anchor of the first stride-32 cell, centred
	// at (16, 16) input pixels.
	const idx = 513
	reg := []float32{
		4, -2, 40, 30, // box: centre (20, 14), 40x30
		-8, -5, 8, -5, // right eye (8, 11), left eye (24, 11)
		0, 3, 0, 10, // nose (16, 19), mouth (16, 26)
		-18, 0, 18, 0, // ears (-2, 16), (34, 16)
	}
	scores, regs := raw(spec, idx, 2, reg)
	dets, err := Decode(scores, regs, spec, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if len(dets) != 1 {
		t.Fatalf("got %d detections, want 1", len(dets))
	}
	d := dets[0]
	assertNear(t, "score", d.Score, 1/(1+math.Exp(-2)), 1e-9)
	want := [4]float64{0, -1, 40, 30}
	for i := range want {
		assertNear(t, "box", d.Box[i], want[i], 1e-9)
	}
	kps := [NumKeypoints]Point{{8, 11}, {24, 11}, {16, 19}, {16, 26}, {-2, 16}, {34, 16}}
	for k, p := range kps {
		assertNear(t, "keypoint x", d.Keypoints[k].X, p.X, 1e-9)
		assertNear(t, "keypoint y", d.Keypoints[k].Y, p.Y, 1e-9)
	}
	assertNear(t, "roll", d.Roll, 0, 1e-12)
	if !d.Plausible() {
		t.Errorf("upright face layout not plausible")
	}
}

func TestDecodeThresholdAndClip(t *testing.T) {
	spec := Back()
	tests := []struct {
		name     string
		logit    float32
		minScore float64
		want     int
		score    float64
	}{
		{"below threshold", -0.1, 0.5, 0, 0},
		{"at threshold", 0, 0.5, 1, 0.5},
		// MediaPipe clips logits to ±100 so exp never overflows.
		{"huge logit clipped", 1e30, 0.5, 1, 1},
		{"everything", -10, 0, 896, 1 / (1 + math.Exp(10))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scores, regs := raw(spec, 7, tt.logit, []float32{0, 0, 10, 10})
			dets, err := Decode(scores, regs, spec, tt.minScore)
			if err != nil {
				t.Fatal(err)
			}
			if len(dets) != tt.want {
				t.Fatalf("got %d detections, want %d", len(dets), tt.want)
			}
			if tt.want == 1 {
				assertNear(t, "score", dets[0].Score, tt.score, 1e-12)
			}
		})
	}
}

func TestDecodeBadLengths(t *testing.T) {
	spec := Back()
	tests := []struct {
		name         string
		scores, regs int
	}{
		{"short scores", 895, 896 * 16},
		{"short regressors", 896, 896*16 - 1},
	}
	for _, tt := range tests {
		if _, err := Decode(make([]float32, tt.scores), make([]float32, tt.regs), spec, 0.5); err == nil {
			t.Errorf("%s: got no error, want one", tt.name)
		}
	}
}

func TestTransformAndLetterbox(t *testing.T) {
	tests := []struct {
		name       string
		w, h       int
		model, img Point
	}{
		// A 400x200 image fills the 256 input's width; it is padded by 100
		// image pixels above and below, so the input's centre is the
		// image's.
		{"landscape centre", 400, 200, Point{128, 128}, Point{200, 100}},
		{"landscape corner", 400, 200, Point{0, 64}, Point{0, 0}},
		{"portrait corner", 200, 400, Point{64, 0}, Point{0, 0}},
		{"square", 512, 512, Point{256, 256}, Point{512, 512}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := Letterbox(tt.w, tt.h).Transform(256)
			d := Detection{Box: [4]float64{tt.model.X, tt.model.Y, 10, 10}}
			got := tr.Apply(d)
			assertNear(t, "x", got.Box[0], tt.img.X, 1e-9)
			assertNear(t, "y", got.Box[1], tt.img.Y, 1e-9)
			assertNear(t, "w", got.Box[2], 10*tr.Scale, 1e-9)
		})
	}
}

// face builds a detection with an upright face layout in box b.
func face(b [4]float64, score float64) Detection {
	x, y, w, h := b[0], b[1], b[2], b[3]
	d := Detection{Box: b, Score: score}
	d.Keypoints = [NumKeypoints]Point{
		{x + 0.3*w, y + 0.35*h}, {x + 0.7*w, y + 0.35*h},
		{x + 0.5*w, y + 0.55*h}, {x + 0.5*w, y + 0.75*h},
		{x, y + 0.45*h}, {x + w, y + 0.45*h},
	}
	d.rollFromEyes()
	return d
}

func TestRoll(t *testing.T) {
	tests := []struct {
		name  string
		angle float64 // turn of the face on screen, clockwise positive
	}{
		{"upright", 0},
		{"clockwise 30°", math.Pi / 6},
		{"counter-clockwise 45°", -math.Pi / 4},
		{"upside down", math.Pi},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := rolled(face([4]float64{100, 100, 100, 100}, 1), tt.angle)
			diff := math.Remainder(d.Roll-tt.angle, 2*math.Pi)
			if math.Abs(diff) > 1e-9 {
				t.Errorf("got roll %.4f, want %.4f", d.Roll, tt.angle)
			}
			if !d.Plausible() {
				t.Errorf("rotated face layout not plausible")
			}
		})
	}
}

func TestPlausible(t *testing.T) {
	up := face([4]float64{0, 0, 100, 100}, 1)
	noseOnEyes := up
	noseOnEyes.Keypoints[NoseTip].Y = noseOnEyes.Keypoints[RightEye].Y + 2
	mouthAboveNose := up
	mouthAboveNose.Keypoints[MouthCenter].Y = mouthAboveNose.Keypoints[NoseTip].Y - 5
	sameEyes := up
	sameEyes.Keypoints[LeftEye] = sameEyes.Keypoints[RightEye]
	sameEyes.Keypoints[MouthCenter] = sameEyes.Keypoints[RightEye]
	tests := []struct {
		name string
		d    Detection
		want bool
	}{
		{"upright face", up, true},
		{"nose on the eye line", noseOnEyes, false},
		{"mouth above the nose", mouthAboveNose, false},
		{"all keypoints in one place", sameEyes, false},
	}
	for _, tt := range tests {
		if got := tt.d.Plausible(); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestIoU(t *testing.T) {
	tests := []struct {
		name string
		a, b [4]float64
		want float64
	}{
		{"same", [4]float64{0, 0, 10, 10}, [4]float64{0, 0, 10, 10}, 1},
		{"half overlap", [4]float64{0, 0, 10, 10}, [4]float64{5, 0, 10, 10}, 50.0 / 150},
		{"disjoint", [4]float64{0, 0, 10, 10}, [4]float64{20, 20, 5, 5}, 0},
		{"touching", [4]float64{0, 0, 10, 10}, [4]float64{10, 0, 10, 10}, 0},
		{"empty", [4]float64{0, 0, 0, 0}, [4]float64{0, 0, 0, 0}, 0},
	}
	for _, tt := range tests {
		assertNear(t, tt.name, IoU(tt.a, tt.b), tt.want, 1e-12)
	}
}

func TestWeightedNMS(t *testing.T) {
	a := face([4]float64{0, 0, 100, 100}, 0.9)
	b := face([4]float64{10, 10, 100, 100}, 0.6) // IoU with a 0.68
	far := face([4]float64{300, 0, 50, 50}, 0.7)
	got := WeightedNMS([]Detection{b, far, a}, 0.3)
	if len(got) != 2 {
		t.Fatalf("got %d detections, want 2", len(got))
	}
	// The blend keeps the best score and weights the boxes by score.
	m := got[0]
	assertNear(t, "score", m.Score, 0.9, 0)
	assertNear(t, "x", m.Box[0], (0.9*0+0.6*10)/1.5, 1e-9)
	assertNear(t, "w", m.Box[2], 100, 1e-9)
	assertNear(t, "eye x", m.Keypoints[RightEye].X, (0.9*30+0.6*40)/1.5, 1e-9)
	if got[1].Box != far.Box {
		t.Errorf("far detection: got box %v, want %v unchanged", got[1].Box, far.Box)
	}
}

func TestWeightedNMSEdgeCases(t *testing.T) {
	tests := []struct {
		name string
		in   []Detection
		want int
	}{
		{"none", nil, 0},
		// A zero-area box has IoU 0 even with itself; it must still leave.
		{"degenerate boxes", []Detection{{Score: 0.9}, {Score: 0.8}}, 2},
		{"zero scores", []Detection{face([4]float64{0, 0, 10, 10}, 0), face([4]float64{1, 1, 10, 10}, 0)}, 1},
	}
	for _, tt := range tests {
		if got := WeightedNMS(tt.in, 0.3); len(got) != tt.want {
			t.Errorf("%s: got %d detections, want %d", tt.name, len(got), tt.want)
		}
	}
}

func TestSuppressContained(t *testing.T) {
	big := face([4]float64{0, 0, 100, 100}, 0.9)
	cheek := face([4]float64{10, 50, 30, 30}, 0.6) // inside big, IoU 0.09
	wrapper := face([4]float64{-40, -40, 180, 180}, 0.5)
	beside := face([4]float64{90, 0, 100, 100}, 0.8) // 10% of it inside big
	got := SuppressContained([]Detection{big, beside, cheek, wrapper}, 0.6)
	if len(got) != 2 || got[0].Box != big.Box || got[1].Box != beside.Box {
		t.Errorf("got %v, want the big face and the one beside it", boxes(got))
	}
}

func boxes(ds []Detection) [][4]float64 {
	var out [][4]float64
	for _, d := range ds {
		out = append(out, d.Box)
	}
	return out
}

func TestMatch(t *testing.T) {
	truth := [][4]float64{{0, 0, 10, 10}, {100, 0, 10, 10}}
	dets := []Detection{
		{Box: [4]float64{1, 1, 10, 10}, Score: 0.9},   // matches the first
		{Box: [4]float64{0, 0, 10, 10}, Score: 0.5},   // a duplicate: fp
		{Box: [4]float64{300, 0, 10, 10}, Score: 0.8}, // nothing there: fp
	}
	tp, fp, fn := Match(dets, truth, 0.4)
	if tp != 1 || fp != 2 || fn != 1 {
		t.Errorf("got tp=%d fp=%d fn=%d, want tp=1 fp=2 fn=1", tp, fp, fn)
	}
}
