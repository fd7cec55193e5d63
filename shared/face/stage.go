package face

import "fmt"

// Small faces are found by tiles at up to the photo's native resolution:
// dozens of model runs on a large photo, ten times the full frame's cost.
// Most photos have no face that small, and the ones that do are mostly
// crowds and group photos, whose faces come in a range of sizes: the
// smallest ones a coarser level can see announce the even smaller ones
// beyond it. So levels run coarse to fine, and a level runs only when the
// one before it found a face near the bottom of its range (a lead). A photo
// without small faces then costs one full-frame pass; the price is a lone
// tiny face with no bigger face near its size anywhere in the photo, which
// only the exhaustive plan (StageAll) finds.

// Staging chooses how the small-face levels run.
type Staging int

func (s Staging) String() string {
	switch s {
	case StageLeads:
		return "leads"
	case StageAll:
		return "all"
	case StageFullFrame:
		return "full-frame"
	}
	return fmt.Sprintf("Staging(%d)", int(s))
}

// ParseStaging reads a Staging from its String form.
func ParseStaging(v string) (Staging, error) {
	for _, s := range []Staging{StageLeads, StageAll, StageFullFrame} {
		if v == s.String() {
			return s, nil
		}
	}
	return 0, fmt.Errorf("small-face pass %q: want leads, all or full-frame", v)
}

const (
	// StageLeads runs a level only when the level before it found a lead.
	StageLeads Staging = iota
	// StageAll runs every planned pass.
	StageAll
	// StageFullFrame runs the full-frame pass only.
	StageFullFrame
)

// DefaultLeadFactor: a lead is a face smaller than this many times the
// smallest face a level finds reliably (spec.ReliableFace model pixels).
// Measured on the 48 development photos and on synthetic crowds
// (worker/detect's TestSmallFacesCrowd), 1.2, 1.5 and 2.5 all found the
// faces every tile found; 1.2 runs tiles for the fewest photos whose faces
// are all big (at 1.5, one of the demo photos ran all 42 passes for
// nothing). Doubtful leads and the blind first level (see RunStaged) are
// what find the crowds too small for any lead.
const DefaultLeadFactor = 1.2

// RunStaged runs the passes that PlanPasses listed, level by level, through
// run (which runs a batch of passes and returns each one's detections in
// image pixels), and returns the passes it ran with their detections, for
// Merge. Passes of a level run together, so run can spread them over
// threads. The finest level run keeps faces of every size (its MinFace is
// cleared), since no finer level follows to take the smallest ones.
//
// run returns detections down to LeadScore; a face that small leaves
// doubtful traces, which count as leads, while only those of minScore and
// more are returned.
func RunStaged(passes []Pass, spec Spec, mode Staging, minScore, leadFactor float64, run func([]Pass) ([][]Detection, error)) ([]Pass, [][]Detection, error) {
	if len(passes) == 0 {
		return nil, nil, nil
	}
	if leadFactor <= 0 {
		leadFactor = DefaultLeadFactor
	}
	switch mode {
	case StageAll:
		// The full frame, then every tile in one batch.
		first, err := run(passes[:1])
		if err != nil || len(passes) == 1 {
			return passes[:1], keep(first, minScore), err
		}
		rest, err := run(passes[1:])
		if err != nil {
			return nil, nil, err
		}
		return passes, keep(append(first, rest...), minScore), nil
	case StageFullFrame:
		passes = passes[:1]
	}
	var ran []Pass
	var per [][]Detection
	for start := 0; start < len(passes); {
		end := start + 1
		for end < len(passes) && passes[end].Level == passes[start].Level {
			end++
		}
		level := append([]Pass(nil), passes[start:end]...)
		dets, err := run(level)
		if err != nil {
			return nil, nil, err
		}
		ran, per = append(ran, level...), append(per, keep(dets, minScore)...)
		if end == len(passes) {
			break
		}
		// A full frame without any face may be a crowd too small for it
		// to see (faces a third of its reliable size give it no signal at
		// all), so the first tiles run then too.
		if !hasLead(level, dets, spec, minScore, leadFactor) && !(start == 0 && len(keep(dets, LeadScore)[0]) == 0) {
			break
		}
		start = end
	}
	// The last level run answers for the small faces too.
	last := ran[len(ran)-1].Level
	for i := range ran {
		if ran[i].Level == last {
			ran[i].MinFace = 0
		}
	}
	return ran, per, nil
}

// LeadScore is the least score of a detection that counts as a lead.
const LeadScore = 0.25

// keep returns the detections of each pass that score at least min.
func keep(per [][]Detection, min float64) [][]Detection {
	out := make([][]Detection, len(per))
	for i, dets := range per {
		for _, d := range dets {
			if d.Score >= min {
				out[i] = append(out[i], d)
			}
		}
	}
	return out
}

// hasLead reports whether a level found a face below leadFactor times the
// size it finds reliably: a detection of minScore, or a doubtful one
// (LeadScore) laid out like a face (Detection.Plausible) away from every
// sure one, since a real face's neighbouring anchors score low too. A
// face cut by a tile's edge counts: it is still a face of about that size.
func hasLead(level []Pass, dets [][]Detection, spec Spec, minScore, leadFactor float64) bool {
	reliable := spec.ReliableFace
	if reliable <= 0 {
		reliable = float64(spec.Size) / 16
	}
	var sure []Detection
	for _, ds := range dets {
		for _, d := range ds {
			if d.Score >= minScore {
				sure = append(sure, d)
			}
		}
	}
	for i, p := range level {
		if i >= len(dets) || p.Scale <= 0 {
			continue
		}
		lead := leadFactor * reliable / p.Scale
		for _, d := range dets[i] {
			if d.Box[2] >= lead || d.Score < LeadScore {
				continue
			}
			if d.Score >= minScore || (d.Plausible() && !touchesAny(d, sure)) {
				return true
			}
		}
	}
	return false
}

// touchesAny reports whether d's box overlaps any of others'.
func touchesAny(d Detection, others []Detection) bool {
	for _, o := range others {
		if intersection(d.Box, o.Box) > 0 {
			return true
		}
	}
	return false
}
