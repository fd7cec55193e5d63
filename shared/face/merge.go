package face

import "math"

// Check runs the model over one window and returns its detections in image
// pixels, before suppression. Merge uses it to take a second look at
// doubtful tile detections; the worker backs it with onnxruntime, the
// browser with its own forward pass.
type Check func(win Window) ([]Detection, error)

// Merge combines the detections of all passes (already in image pixels,
// perPass[i] from passes[i]) into the final list, sorted by descending
// score:
//
//  1. each pass drops what lies outside its band of sizes or touches a
//     tile's inner edge (Pass.Cut);
//  2. the tiles' detections are merged among themselves by weighted NMS
//     (neighbouring tiles overlap, so one face often appears in several);
//  3. a merged tile detection that no full-frame detection confirms and
//     that scores below spec.CheckBelow gets a second look through check:
//     the model runs once more on a window centred on it, where the face
//     is spec.CheckContext times smaller than the window (at most at the
//     image's native resolution), and the detection stays only if that
//     view finds it too with a score of at least spec.CheckMinScore, and
//     its keypoints are laid out like a face's (Detection.Plausible).
//     Tiles magnify, and magnified textures (a badge, a fold of cloth, a
//     hand) now and then look like a face from one viewpoint but seldom
//     from two, or with the nose where a nose goes; real faces do. With
//     check nil this step keeps every detection;
//  4. full-frame and tile detections go through weighted NMS together, so
//     a face seen by both becomes one blended detection;
//  5. a detection lying mostly inside a better-scored one goes (see
//     SuppressContained), and boxes are clipped to the image.
func Merge(passes []Pass, perPass [][]Detection, w, h int, spec Spec, check Check) ([]Detection, error) {
	var full, tiles []Detection
	for i, dets := range perPass {
		if i >= len(passes) {
			break
		}
		for _, d := range dets {
			if passes[i].Cut(d, w, h) {
				continue
			}
			if passes[i].Level == 0 {
				full = append(full, d)
			} else {
				tiles = append(tiles, d)
			}
		}
	}
	all := full
	for _, t := range WeightedNMS(tiles, spec.MinSuppressionIoU) {
		if check != nil && t.Score < spec.CheckBelow && !overlapsAny(t, full, spec.MinSuppressionIoU) {
			again, err := check(CheckWindow(t, spec))
			if err != nil {
				return nil, err
			}
			best := 0.0
			for _, a := range again {
				if IoU(a.Box, t.Box) > spec.MinSuppressionIoU {
					best = math.Max(best, a.Score)
				}
			}
			if best < spec.CheckMinScore || !t.Plausible() {
				continue
			}
		}
		all = append(all, t)
	}
	out := SuppressContained(WeightedNMS(all, spec.MinSuppressionIoU), containedCover)
	for i := range out {
		out[i] = Clip(out[i], w, h)
	}
	return out, nil
}

func overlapsAny(d Detection, others []Detection, minIoU float64) bool {
	for _, o := range others {
		if IoU(d.Box, o.Box) > minIoU {
			return true
		}
	}
	return false
}

// CheckWindow is the window Merge's second look uses for d: centred on d,
// spec.CheckContext times d's size, but never smaller than the model's
// input in image pixels (enlarging past native resolution adds no detail).
func CheckWindow(d Detection, spec Spec) Window {
	c := d.Center()
	side := math.Max(spec.CheckContext*math.Max(d.Box[2], d.Box[3]), float64(spec.Size))
	return Window{X: c.X - side/2, Y: c.Y - side/2, Side: side}
}

// containedCover is how much of a detection's box must lie inside a better
// one's for SuppressContained to drop it.
const containedCover = 0.6

// SuppressContained drops every detection whose box lies, for at least
// minCover of its area, inside the box of a detection with a higher score,
// or holds such a detection for that share of the other's area. Passes at
// different scales disagree in size where IoU cannot see it: a tile's
// magnified view of a big face may find a "face" in one cheek, and a
// coarse pass may put a box twice too big around a face that a tile found
// properly. Either way the two boxes nest, their IoU stays under the NMS
// threshold, and the better-scored one is the face. dets must be sorted by
// descending score, as WeightedNMS returns them.
func SuppressContained(dets []Detection, minCover float64) []Detection {
	out := dets[:0:0]
	for _, d := range dets {
		area := d.Box[2] * d.Box[3]
		keep := true
		for _, k := range out {
			small := math.Min(area, k.Box[2]*k.Box[3])
			if small > 0 && intersection(d.Box, k.Box)/small >= minCover {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, d)
		}
	}
	return out
}
