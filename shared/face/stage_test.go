package face

import (
	"errors"
	"testing"
)

// TestRunStaged drives the staging with a fake model: which levels run,
// what comes back, and which pass keeps the small faces.
func TestRunStaged(t *testing.T) {
	spec := Back()
	passes := PlanPasses(1920, 1280, spec, PlanOptions{})
	levels := map[int]int{}
	for _, p := range passes {
		levels[p.Level]++
	}
	if len(levels) != 3 {
		t.Fatalf("plan for 1920x1280 has levels %v, want 0, 1 and 2", levels)
	}
	big := func(score float64) Detection { return face([4]float64{500, 400, 300, 300}, score) }
	small := func(score float64) Detection { return face([4]float64{500, 400, 30, 30}, score) }
	for _, tc := range []struct {
		name       string
		mode       Staging
		found      map[int][]Detection // per level, in every pass of it
		wantLevels []int
		wantDets   int // detections returned, summed over passes
	}{
		{"all runs every pass", StageAll, nil, []int{0, 1, 2}, 0},
		{"full frame only", StageFullFrame, map[int][]Detection{0: {small(0.9)}}, []int{0}, 1},
		{"a big face needs no tiles", StageLeads, map[int][]Detection{0: {big(0.9)}}, []int{0}, 1},
		{"a small face calls for the next level", StageLeads, map[int][]Detection{0: {small(0.9)}}, []int{0, 1}, 1},
		{"small faces at every level run them all", StageLeads, map[int][]Detection{0: {small(0.9)}, 1: {small(0.9)}}, []int{0, 1, 2}, 1 + levels[1]},
		{"no face at all tries the first tiles", StageLeads, nil, []int{0, 1}, 0},
		{"a doubtful small face away from sure ones is a lead", StageLeads, map[int][]Detection{0: {big(0.9), face([4]float64{1500, 100, 30, 30}, 0.3)}}, []int{0, 1}, 1},
		{"a doubtful small face on a sure one is not", StageLeads, map[int][]Detection{0: {big(0.9), face([4]float64{520, 420, 30, 30}, 0.3)}}, []int{0}, 1},
		{"below the lead score is nothing", StageLeads, map[int][]Detection{0: {big(0.9), face([4]float64{1500, 100, 30, 30}, 0.1)}}, []int{0}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ran []int
			gotPasses, per, err := RunStaged(passes, spec, tc.mode, 0.5, 0, func(batch []Pass) ([][]Detection, error) {
				ran = append(ran, batch[0].Level)
				out := make([][]Detection, len(batch))
				for i, p := range batch {
					out[i] = tc.found[p.Level]
				}
				return out, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want := tc.wantLevels
			if tc.mode == StageAll {
				want = []int{0, 1} // the full frame, then one batch holding every tile
			}
			if len(ran) != len(want) {
				t.Fatalf("ran levels %v, want %v", ran, want)
			}
			for i := range ran {
				if ran[i] != want[i] {
					t.Fatalf("ran levels %v, want %v", ran, want)
				}
			}
			n := 0
			for _, d := range per {
				n += len(d)
			}
			if n != tc.wantDets {
				t.Errorf("got %d detections back, want %d (only those of the min score)", n, tc.wantDets)
			}
			if len(per) != len(gotPasses) {
				t.Fatalf("got %d passes and %d detection lists", len(gotPasses), len(per))
			}
			last := gotPasses[len(gotPasses)-1].Level
			for _, p := range gotPasses {
				if p.Level == last && p.MinFace != 0 {
					t.Errorf("finest level run (%d) keeps faces from %.0f px, want every size", last, p.MinFace)
				}
			}
		})
	}
	t.Run("errors stop it", func(t *testing.T) {
		boom := errors.New("boom")
		if _, _, err := RunStaged(passes, spec, StageLeads, 0.5, 0, func([]Pass) ([][]Detection, error) { return nil, boom }); !errors.Is(err, boom) {
			t.Errorf("got %v, want boom", err)
		}
	})
	t.Run("parse", func(t *testing.T) {
		for _, s := range []Staging{StageLeads, StageAll, StageFullFrame} {
			if got, err := ParseStaging(s.String()); err != nil || got != s {
				t.Errorf("ParseStaging(%q) = %v, %v; want %v", s.String(), got, err, s)
			}
		}
		if _, err := ParseStaging("some"); err == nil {
			t.Error("got no error for an unknown mode")
		}
	})
}
