package face

import (
	"math"
	"sort"
)

// IoU is the intersection over union of two x,y,w,h boxes; 0 when either is
// empty.
func IoU(a, b [4]float64) float64 {
	inter := intersection(a, b)
	if inter <= 0 {
		return 0
	}
	union := a[2]*a[3] + b[2]*b[3] - inter
	if union <= 0 {
		return 0
	}
	return inter / union
}

func intersection(a, b [4]float64) float64 {
	w := math.Min(a[0]+a[2], b[0]+b[2]) - math.Max(a[0], b[0])
	h := math.Min(a[1]+a[3], b[1]+b[3]) - math.Max(a[1], b[1])
	if w <= 0 || h <= 0 {
		return 0
	}
	return w * h
}

// WeightedNMS is MediaPipe's weighted non-maximum suppression: take the
// best remaining detection, gather every remaining one whose IoU with it
// exceeds minIoU (itself included), and replace them all by their
// score-weighted mean box and keypoints, keeping the best score. Blending
// rather than discarding steadies boxes and keypoints, and it is how
// detections of the same face from different passes (full frame and tiles)
// merge into one. The result is sorted by descending score.
func WeightedNMS(dets []Detection, minIoU float64) []Detection {
	if len(dets) == 0 {
		return nil
	}
	rest := make([]Detection, len(dets))
	copy(rest, dets)
	// A stable sort keeps the output deterministic for equal scores.
	sort.SliceStable(rest, func(i, j int) bool { return rest[i].Score > rest[j].Score })
	var out []Detection
	var keep []Detection
	for len(rest) > 0 {
		top := rest[0]
		var total, x, y, w, h float64
		var kp [NumKeypoints]Point
		keep = keep[:0]
		n := 0
		for i, d := range rest {
			// top joins its own group explicitly: a degenerate box has IoU
			// 0 with itself and would otherwise never leave rest.
			if i > 0 && IoU(top.Box, d.Box) <= minIoU {
				keep = append(keep, d)
				continue
			}
			n++
			s := d.Score
			total += s
			x += s * d.Box[0]
			y += s * d.Box[1]
			w += s * d.Box[2]
			h += s * d.Box[3]
			for k := range kp {
				kp[k].X += s * d.Keypoints[k].X
				kp[k].Y += s * d.Keypoints[k].Y
			}
		}
		// A lone detection stays exactly as it was; total is 0 only when
		// every score in the group is 0, and then top stands for the group.
		if n > 1 && total > 0 {
			top.Box = [4]float64{x / total, y / total, w / total, h / total}
			for k := range kp {
				top.Keypoints[k] = Point{kp[k].X / total, kp[k].Y / total}
			}
			top.rollFromEyes()
		}
		out = append(out, top)
		rest, keep = keep, rest
	}
	return out
}
