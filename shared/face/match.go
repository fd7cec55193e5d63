package face

import "sort"

// Match counts how detections meet ground-truth boxes (x, y, w, h), the
// way detection benchmarks do: detections in descending score order each
// take the unmatched truth box they overlap most, if that IoU reaches
// minIoU. tp counts matched detections, fp the unmatched ones, fn the truth
// boxes left over.
func Match(dets []Detection, truth [][4]float64, minIoU float64) (tp, fp, fn int) {
	order := make([]int, len(dets))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return dets[order[a]].Score > dets[order[b]].Score })
	used := make([]bool, len(truth))
	for _, i := range order {
		best, bj := minIoU, -1
		for j, t := range truth {
			if v := IoU(dets[i].Box, t); !used[j] && v >= best {
				best, bj = v, j
			}
		}
		if bj < 0 {
			fp++
			continue
		}
		used[bj] = true
		tp++
	}
	return tp, fp, len(truth) - tp
}
