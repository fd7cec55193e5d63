package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/disintegration/imaging"

	"github.com/igemoji/igemoji/shared/face"
	"github.com/igemoji/igemoji/shared/picture"
	"github.com/igemoji/igemoji/worker/vision"
)

// benchVision times the worker's pipeline stage by stage, as the worker
// runs it on each photo: decode, faces (the full frame, then the
// small-face tiles), every face's expression, composite, encode. It prints
// each stage's median per photo and the process's peak resident memory.
func benchVision(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("igemoji bench-vision", "igemoji bench-vision [--runs N] [--threads N] [--size PX] IMAGE...",
		"Runs the whole pipeline on each IMAGE (decode, faces, expressions, composite, encode)\n"+
			"and prints each stage's median and the process's peak resident memory.\n\n"+
			"  igemoji bench-vision --runs 20 group.jpg")
	var vf visionFlags
	vf.register(fs, getenv)
	runs := fs.Int("runs", 20, "timed runs per photo (after one warm-up run)")
	threads := fs.Int("threads", 1, "threads for onnxruntime and Go")
	tmpl := fs.String("template", "fluent-flat", "built-in template pasted on the faces")
	small := fs.String("small-faces", face.StageLeads.String(), "small-face tiles: leads (where coarser levels call for them), all, or full-frame (none)")
	size := fs.Int("size", 0, "first scale each photo to this long side and re-encode it (JPEG q90): to time large photos")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the timed runs to this file (go tool pprof)")
	if err := parseImageArgs(fs, args, "bench-vision", stdout); err != nil {
		return err
	}
	staging, err := face.ParseStaging(*small)
	if err != nil {
		return usageError{err}
	}
	if *runs < 1 || *runs > 10000 {
		return usageError{fmt.Errorf("bench-vision: --runs %d: want 1 to 10000", *runs)}
	}
	if *threads < 1 || *threads > maxBenchThreads {
		return usageError{fmt.Errorf("bench-vision: --threads %d: want 1 to %d", *threads, maxBenchThreads)}
	}
	if *size < 0 || *size > 12000 {
		return usageError{fmt.Errorf("bench-vision: --size %d: want 0 (as is) to 12000", *size)}
	}
	if err := vf.check(); err != nil {
		return err
	}
	// Checked before the work, as every output is: never over an input.
	var prof *outFile
	if *profile != "" {
		if prof, err = createOut(*profile, fs.Args()...); err != nil {
			return err
		}
		defer prof.abort()
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(*threads))
	emoji, err := builtinEmoji(vf.assets, *tmpl)
	if err != nil {
		return err
	}
	cfg := vision.DefaultConfig(vf.assets)
	cfg.LibPath, cfg.Threads, cfg.SmallFaces = vf.lib, *threads, staging
	p, err := vision.Open(cfg)
	if err != nil {
		return err
	}
	defer p.Close()

	photos := make([][]byte, fs.NArg())
	for i, path := range fs.Args() {
		if photos[i], err = readPhotoFile(path); err != nil {
			return fmt.Errorf("%s: %s", path, cliMessage(err))
		}
		if *size > 0 {
			if photos[i], err = rescale(photos[i], *size); err != nil {
				return fmt.Errorf("%s: %s", path, cliMessage(err))
			}
		}
	}
	// The peak from here on is the pipeline's, not the reading or the
	// rescaling of the photos.
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS()

	if prof != nil {
		if err := pprof.StartCPUProfile(prof); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Fprintf(stdout, "one photo at a time, %d thread(s), JPEG by %s, small faces: %s; medians of %d runs in ms\n",
		*threads, picture.JPEGCodec, staging, *runs)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "photo\tsize\tfaces\tpasses\tdecode\tfull frame\tsmall faces\texpressions\tcomposite\tencode\ttotal\t")
	var totals []time.Duration
	for i, data := range photos {
		var st [7][]time.Duration
		var w, h, faces, passes, planned int
		for r := 0; r <= *runs; r++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			t0 := time.Now()
			ph, err := picture.DecodePhoto(bytes.NewReader(data), picture.PhotoLimits, vf.maxSide)
			if err != nil {
				return fmt.Errorf("%s: %s", fs.Arg(i), cliMessage(err))
			}
			img, format := ph.Image, ph.Format
			t1 := time.Now()
			found, tm, err := p.AnalyzePhoto(ctx, ph, nil)
			if err != nil {
				return err
			}
			t2 := time.Now()
			alpha := format != picture.FormatJPEG && picture.HasAlpha(img)
			out := vision.EmojifyOwned(img, found, emoji)
			t3 := time.Now()
			var buf bytes.Buffer
			if _, err := picture.Encode(&buf, out, alpha); err != nil {
				return err
			}
			t4 := time.Now()
			size := img.Bounds().Size()
			if out != img {
				picture.Recycle(out)
			}
			ph.Recycle() // as the worker does
			if r == 0 {
				continue // warm-up
			}
			for k, d := range []time.Duration{t1.Sub(t0), tm.Detect.FullFrame, tm.Detect.SmallFaces, tm.Read, t3.Sub(t2), t4.Sub(t3), t4.Sub(t0)} {
				st[k] = append(st[k], d)
			}
			w, h, faces = size.X, size.Y, len(found)
			passes, planned = tm.Detect.Passes, tm.Detect.Planned
		}
		fmt.Fprintf(tw, "%s\t%dx%d\t%d\t%d/%d\t", filepath.Base(fs.Arg(i)), w, h, faces, passes, planned)
		for k := range st {
			fmt.Fprintf(tw, "%.1f\t", ms(median(st[k])))
		}
		fmt.Fprintln(tw)
		totals = append(totals, st[6]...)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "all photos: median %.1f ms per photo; peak resident memory %s\n", ms(median(totals)), peakRSS())
	if prof != nil {
		pprof.StopCPUProfile()
		return prof.commit()
	}
	return nil
}

// maxBenchThreads bounds --threads: past it, runs only measure contention
// (and the Go runtime runs out of threads long before a typo's 100000).
const maxBenchThreads = 64

// rescale scales a photo to long side px and re-encodes it as JPEG q90.
func rescale(data []byte, px int) ([]byte, error) {
	img, _, err := picture.Decode(bytes.NewReader(data), picture.PhotoLimits)
	if err != nil {
		return nil, err
	}
	b := img.Bounds()
	var m image.Image
	if b.Dx() >= b.Dy() {
		m = imaging.Resize(img, px, 0, imaging.Lanczos)
	} else {
		m = imaging.Resize(img, 0, px, imaging.Lanczos)
	}
	var buf bytes.Buffer
	_, err = picture.Encode(&buf, m, false)
	return buf.Bytes(), err
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// resetPeakRSS starts the kernel's peak-RSS count (VmHWM) afresh (Linux).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is VmHWM from /proc/self/status, or "unknown" off Linux.
func peakRSS() string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if kb, err := strconv.Atoi(f[0]); err == nil {
				return fmt.Sprintf("%.0f MiB", float64(kb)/1024)
			}
		}
	}
	return "unknown"
}
