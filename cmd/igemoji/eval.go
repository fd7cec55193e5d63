package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/igemoji/igemoji/shared/moji"
	"github.com/igemoji/igemoji/worker/vision"
)

// labelClass maps a dataset's label names onto the seven classes; labels
// with no class (contempt) are left out of the figures.
var labelClass = map[string]moji.Expression{
	"neutral": moji.Neutral, "happy": moji.Happy, "happiness": moji.Happy, "sad": moji.Sad, "sadness": moji.Sad,
	"angry": moji.Angry, "anger": moji.Angry, "surprise": moji.Surprised, "surprised": moji.Surprised,
	"fear": moji.Fearful, "fearful": moji.Fearful, "disgust": moji.Disgusted, "disgusted": moji.Disgusted,
}

// evalExpressions scores the expression reading on a labelled manifest
// (CSV: path,label; paths relative to the manifest) in --face-crop mode.
func evalExpressions(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("igemoji eval-expressions", "igemoji eval-expressions [flags] MANIFEST.csv",
		"Reads every labelled face of MANIFEST (CSV rows of path,label; paths relative to it) as\n"+
			"one face, as analyze --face-crop does, and prints accuracy, macro recall, each class's\n"+
			"recall and the confusion matrix.\n\n"+
			"  igemoji eval-expressions ../shared/data/expressions-dev/manifest.csv")
	var vf visionFlags
	vf.register(fs, getenv)
	def := vision.DefaultConfig("")
	scale := fs.Float64("crop-scale", def.CropScale, "crop side as a multiple of the face box")
	extra := fs.String("extra-scales", joinScales(def.ExtraScales), "comma-separated further crop scales to average in (\"\": none)")
	flip := fs.Bool("flip", def.Flip, "average each model with its mirror image")
	we := fs.Float64("w-emotion", def.EmotionWeight, "weight of mini-Xception (0: off)")
	wf := fs.Float64("w-faceapi", def.FaceAPIWeight, "weight of face-api (0: off)")
	ww := fs.Float64("w-whole", def.WholeWeight, "weight of the whole-picture reading (1: whole picture only)")
	align := fs.Bool("align", def.Align, "crop each face around its 68 landmarks (one more model run a face)")
	limit := fs.Int("limit", 0, "use at most this many images per class (0: all)")
	asJSON := fs.Bool("json", false, "print the figures as one JSON object")
	predFile := fs.String("predictions", "", "also write each image's reading to this CSV file (path,label,expression and the seven probabilities), to compare methods image by image")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef(fs, "eval-expressions: want one MANIFEST")
	}
	if err := vf.check(); err != nil {
		return err
	}
	if err := checkEvalFlags(*scale, *we, *wf, *ww, *limit); err != nil {
		return err
	}
	rows, short, err := readManifest(fs.Arg(0))
	if err != nil {
		return err
	}
	if short > 0 {
		fmt.Fprintf(stderr, "left out, rows without a label: %d\n", short)
	}
	cfg := vision.DefaultConfig(vf.assets)
	cfg.LibPath, cfg.CropScale, cfg.Flip = vf.lib, *scale, *flip
	if cfg.ExtraScales, err = parseScales(*extra); err != nil {
		return usageError{err}
	}
	cfg.EmotionWeight, cfg.FaceAPIWeight, cfg.WholeWeight = *we, *wf, *ww
	cfg.Align = *align
	p, err := vision.Open(cfg)
	if err != nil {
		return err
	}
	defer p.Close()

	var pred *predictions
	if *predFile != "" {
		if pred, err = createPredictions(*predFile, fs.Arg(0)); err != nil {
			return err
		}
		defer pred.abort()
	}
	var conf [7][7]int
	perClass := map[moji.Expression]int{}
	skipped, failed := 0, 0
	unknown := map[string]int{} // labels with no class, and how often
	start := time.Now()
	for _, r := range rows {
		want, ok := labelClass[strings.ToLower(r[1])]
		if !ok {
			skipped++
			unknown[r[1]]++
			continue
		}
		if *limit > 0 && perClass[want] >= *limit {
			continue
		}
		perClass[want]++
		img, err := loadPhoto(r[0], vf.maxSide)
		if err != nil {
			failed++
			fmt.Fprintf(stderr, "%s: %s\n", r[0], cliMessage(err))
			continue
		}
		f, err := p.AnalyzeCrop(ctx, img)
		if err != nil {
			return err
		}
		conf[index(want)][index(f.Expression)]++
		if pred != nil {
			pred.add(r, f)
		}
	}
	if len(unknown) > 0 {
		var names []string
		for l, n := range unknown {
			names = append(names, fmt.Sprintf("%q (%d)", l, n))
		}
		slices.Sort(names)
		fmt.Fprintf(stderr, "left out, labels with no class: %s\n", strings.Join(names, ", "))
	}
	rep := report(conf)
	rep.Skipped, rep.Failed, rep.Seconds = skipped, failed, time.Since(start).Seconds()
	out := &errWriter{w: stdout}
	if *asJSON {
		json.NewEncoder(out).Encode(rep)
	} else {
		printReport(out, rep, conf)
	}
	switch {
	case out.err != nil:
		return fmt.Errorf("eval-expressions: write output: %w", out.err)
	case rep.N == 0:
		return fmt.Errorf("eval-expressions: no image was scored (%d left out, %d failed)", skipped, failed)
	case failed > 0:
		// The figures leave them out: not the manifest's figures.
		return fmt.Errorf("eval-expressions: %d of %d images failed (named above); the figures leave them out", failed, rep.N+failed)
	}
	if pred != nil {
		return pred.commit()
	}
	return nil
}

// checkEvalFlags refuses settings that would make the figures meaningless.
func checkEvalFlags(scale, we, wf, ww float64, limit int) error {
	ok := func(v, lo, hi float64) bool { return v >= lo && v <= hi } // false for NaN
	switch {
	case !ok(scale, 0.5, 4):
		return usageError{fmt.Errorf("--crop-scale %v: want 0.5 to 4", scale)}
	case !ok(we, 0, 100) || !ok(wf, 0, 100) || we+wf == 0:
		return usageError{fmt.Errorf("--w-emotion %v, --w-faceapi %v: want weights from 0 to 100, not both 0", we, wf)}
	case !ok(ww, 0, 1):
		return usageError{fmt.Errorf("--w-whole %v: want 0 to 1", ww)}
	case limit < 0:
		return usageError{fmt.Errorf("--limit %d: want 0 (all) or more", limit)}
	}
	return nil
}

// predictions is the --predictions file, written to a temporary file
// beside it and renamed into place only once complete, so that a failed
// run leaves no half file.
type predictions struct {
	out *outFile
	w   *csv.Writer
}

func createPredictions(path, manifest string) (*predictions, error) {
	out, err := createOut(path, manifest)
	if err != nil {
		return nil, fmt.Errorf("predictions: %w", err)
	}
	p := &predictions{out: out, w: csv.NewWriter(out)}
	head := []string{"path", "label", "expression"}
	for _, e := range moji.Expressions {
		head = append(head, string(e))
	}
	p.w.Write(head)
	return p, nil
}

// add writes one image's reading (errors show at commit).
func (p *predictions) add(r [2]string, f vision.Face) {
	row := []string{r[0], r[1], string(f.Expression)}
	for _, v := range f.Probs {
		row = append(row, strconv.FormatFloat(v, 'f', 4, 64))
	}
	p.w.Write(row)
}

// commit completes the file and puts it in place.
func (p *predictions) commit() error {
	p.w.Flush()
	err := p.w.Error()
	if err == nil {
		err = p.out.commit()
	}
	if err != nil {
		return fmt.Errorf("predictions: %w", err)
	}
	return nil
}

// abort removes the temporary file unless commit put it in place.
func (p *predictions) abort() { p.out.abort() }

// readManifest reads a CSV of path,label rows (more columns are ignored).
// Relative paths are relative to the manifest; a first row whose label is
// no class name is a header; a byte-order mark, blanks around fields and
// CRLF line ends, as spreadsheets write them, are taken in stride.
func readManifest(path string) (rows [][2]string, short int, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF"))))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	recs, err := r.ReadAll()
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	var out [][2]string
	for i, rec := range recs {
		if len(rec) < 2 {
			if len(rec) == 1 && strings.TrimSpace(rec[0]) != "" {
				short++
			}
			continue
		}
		file, label := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if file == "" || (i == 0 && !knownLabel(label) && !looksLikeImage(file)) {
			continue // empty, or the header
		}
		if !filepath.IsAbs(file) {
			file = filepath.Join(filepath.Dir(path), file)
		}
		out = append(out, [2]string{file, label})
	}
	if len(out) == 0 {
		return nil, short, usageError{fmt.Errorf("%s: no path,label rows", path)}
	}
	return out, short, nil
}

func looksLikeImage(file string) bool {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp":
		return true
	}
	return false
}

func knownLabel(label string) bool {
	_, ok := labelClass[strings.ToLower(label)]
	return ok || strings.EqualFold(label, "contempt")
}

func index(e moji.Expression) int {
	for i, x := range moji.Expressions {
		if x == e {
			return i
		}
	}
	return -1
}

type evalReport struct {
	N           int                         `json:"n"`
	Accuracy    float64                     `json:"accuracy"`
	MacroRecall float64                     `json:"macro_recall"`
	Recall      map[moji.Expression]float64 `json:"recall"`
	Confusion   [7][7]int                   `json:"confusion"` // rows: truth, columns: predicted, moji order
	Skipped     int                         `json:"skipped"`
	Failed      int                         `json:"failed"`
	Seconds     float64                     `json:"seconds"`
}

func report(conf [7][7]int) evalReport {
	r := evalReport{Recall: map[moji.Expression]float64{}, Confusion: conf}
	right, classes := 0, 0
	for i := range conf {
		row := 0
		for j := range conf[i] {
			row += conf[i][j]
		}
		r.N += row
		right += conf[i][i]
		if row > 0 {
			rec := float64(conf[i][i]) / float64(row)
			r.Recall[moji.Expressions[i]] = rec
			r.MacroRecall += rec
			classes++
		}
	}
	if r.N > 0 {
		r.Accuracy = float64(right) / float64(r.N)
	}
	if classes > 0 {
		r.MacroRecall /= float64(classes)
	}
	return r
}

func printReport(w io.Writer, r evalReport, conf [7][7]int) {
	fmt.Fprintf(w, "images %d (skipped %d unlabelled-class, %d failed) in %.1fs\n", r.N, r.Skipped, r.Failed, r.Seconds)
	fmt.Fprintf(w, "accuracy %.1f%%  macro recall %.1f%%\n", 100*r.Accuracy, 100*r.MacroRecall)
	fmt.Fprintf(w, "%-10s %6s |", "truth", "recall")
	for _, e := range moji.Expressions {
		fmt.Fprintf(w, " %5.5s", e)
	}
	fmt.Fprintln(w)
	for i, e := range moji.Expressions {
		rec, ok := r.Recall[e]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "%-10s %5.1f%% |", e, 100*rec)
		for j := range conf[i] {
			fmt.Fprintf(w, " %5d", conf[i][j])
		}
		fmt.Fprintln(w)
	}
}

func joinScales(ks []float64) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = strconv.FormatFloat(k, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}

// parseScales reads --extra-scales: comma-separated positive numbers, ""
// for none. The list replaces the default one.
func parseScales(v string) ([]float64, error) {
	var out []float64
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' }) {
		k, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(k >= 0.5 && k <= 4) {
			return nil, fmt.Errorf("--extra-scales: %q is not a crop scale from 0.5 to 4", f)
		}
		out = append(out, k)
	}
	return out, nil
}
