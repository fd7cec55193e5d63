package tfjs

import (
	"encoding/binary"
	"encoding/json"
	"github.com/igemoji/igemoji/shared/assets/assetstest"
	"image"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
	"golang.org/x/image/draw"
)

var (
	ortOnce sync.Once
	ortErr  error
)

// ortLibrary is onnxruntime's shared library as onnxruntime-node ships it.
func ortLibrary() string {
	arch := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	return "onnxruntime-node@1.30.0/bin/napi-v6/" + runtime.GOOS + "/" + arch + "/libonnxruntime.so.1"
}

// initORT loads onnxruntime once per test binary, or skips the test if its
// library is not there.
func initORT(t *testing.T) {
	t.Helper()
	lib := assetstest.NPMFile(t, ortLibrary())
	ortOnce.Do(func() {
		ort.SetSharedLibraryPath(lib)
		ortErr = ort.InitializeEnvironment()
	})
	if ortErr != nil {
		t.Fatalf("initializing onnxruntime from %s: %v", lib, ortErr)
	}
}

// runONNX runs a converted model ("input" to "probs") on one NHWC input.
func runONNX(t *testing.T, model []byte, shape []int64, input []float32) []float32 {
	t.Helper()
	initORT(t)
	opts, err := ort.NewSessionOptions()
	if err != nil {
		t.Fatal(err)
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(1); err != nil {
		t.Fatal(err)
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, []string{inputName}, []string{outputName}, opts)
	if err != nil {
		t.Fatalf("loading the converted model in onnxruntime: %v", err)
	}
	defer s.Destroy()
	in, err := ort.NewTensor(ort.NewShape(shape...), input)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Destroy()
	outs := []ort.Value{nil}
	if err := s.Run([]ort.Value{in}, outs); err != nil {
		t.Fatalf("running the converted model: %v", err)
	}
	defer outs[0].Destroy()
	out, ok := outs[0].(*ort.Tensor[float32])
	if !ok {
		t.Fatalf("got output of type %T, want *ort.Tensor[float32]", outs[0])
	}
	return append([]float32(nil), out.GetData()...)
}

// maxAbsDiff returns the largest |got[i]-want[i]|, or +Inf if the lengths
// differ.
func maxAbsDiff(got []float32, want []float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range got {
		d = max(d, math.Abs(float64(got[i])-want[i]))
	}
	return d
}

// golden is testdata/golden.json: reference outputs computed by tfjs
// (testdata/reference.cjs) for inputs that inputFor rebuilds.
type golden struct {
	Comment string        `json:"comment"`
	Models  []goldenModel `json:"models"`
}

type goldenModel struct {
	Name string `json:"name"`
	// Kind is "graph-model" (ConvertGraphModel), "face-api"
	// (BuildFaceExpressionNet) or "face-api-landmarks"
	// (BuildFaceLandmark68Net).
	Kind string `json:"kind"`
	// Path is the model.json or weights manifest inside the npm cache.
	Path string `json:"path"`
	// Encoding says how RGB pixels become input values: "gray-pm1"
	// (gray = 0.2989R+0.587G+0.114B in [0,1], then (gray-0.5)*2) or
	// "rgb255" (the pixel values themselves).
	Encoding string `json:"encoding"`
	// Size is the NHWC input's height, width and channels.
	Size  [3]int       `json:"size"`
	Cases []goldenCase `json:"cases"`
}

// outputs is how many values the model gives: 7 probabilities, or the
// landmark model's 136 coordinates.
func (m goldenModel) outputs() int {
	if m.Kind == "face-api-landmarks" {
		return 136
	}
	return 7
}

type goldenCase struct {
	Name  string    `json:"name"`
	Input inputSpec `json:"input"`
	Probs []float64 `json:"probs"` // the outputs, probabilities or not
}

// inputSpec is how a case's input image is made: "random" (uniform random
// RGB bytes from Seed) or "crop" (the Size x Size square at X, Y of Image,
// a JPEG in the npm cache, scaled to the model's input with Catmull-Rom).
type inputSpec struct {
	Kind  string `json:"kind"`
	Seed  uint64 `json:"seed,omitempty"`
	Image string `json:"image,omitempty"`
	X     int    `json:"x,omitempty"`
	Y     int    `json:"y,omitempty"`
	Side  int    `json:"side,omitempty"`
}

func readGolden(t *testing.T) golden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("testdata/golden.json: %v", err)
	}
	return g
}

// splitmix64 is a tiny deterministic PRNG.
type splitmix64 uint64

func (s *splitmix64) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// inputFor builds a case's NHWC input values.
func inputFor(t *testing.T, m goldenModel, spec inputSpec) []float32 {
	t.Helper()
	h, w, c := m.Size[0], m.Size[1], m.Size[2]
	rgb := image.NewRGBA(image.Rect(0, 0, w, h))
	switch spec.Kind {
	case "random":
		r := splitmix64(spec.Seed)
		for i := range rgb.Pix {
			if i%4 == 3 {
				rgb.Pix[i] = 255
			} else {
				rgb.Pix[i] = byte(r.next() >> 56)
			}
		}
	case "crop":
		f, err := os.Open(assetstest.NPMFile(t, spec.Image))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := jpeg.Decode(f)
		if err != nil {
			t.Fatalf("%s: %v", spec.Image, err)
		}
		src := image.Rect(spec.X, spec.Y, spec.X+spec.Side, spec.Y+spec.Side)
		if !src.In(img.Bounds()) {
			t.Fatalf("crop %v is outside %s %v", src, spec.Image, img.Bounds())
		}
		draw.CatmullRom.Scale(rgb, rgb.Bounds(), img, src, draw.Src, nil)
	default:
		t.Fatalf("input kind %q: want random or crop", spec.Kind)
	}
	out := make([]float32, 0, h*w*c)
	for i := 0; i < len(rgb.Pix); i += 4 {
		r, g, b := float64(rgb.Pix[i]), float64(rgb.Pix[i+1]), float64(rgb.Pix[i+2])
		switch {
		case m.Encoding == "gray-pm1" && c == 1:
			gray := float64(float64(0.2989*r)+float64(0.587*g)+float64(0.114*b)) / 255
			out = append(out, float32((gray-0.5)*2))
		case m.Encoding == "rgb255" && c == 3:
			out = append(out, float32(r), float32(g), float32(b))
		default:
			t.Fatalf("encoding %q with %d channels is not supported", m.Encoding, c)
		}
	}
	return out
}

// writeFloats writes values as little-endian float32s.
func writeFloats(path string, v []float32) error {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return os.WriteFile(path, b, 0o644)
}
