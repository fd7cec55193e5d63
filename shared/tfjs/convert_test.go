package tfjs

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"github.com/igemoji/igemoji/shared/assets/assetstest"
	"testing"
	"time"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
)

// goldenTolerance is how far onnxruntime's probabilities may be from tfjs's.
const goldenTolerance = 1e-4

// convertGolden converts a golden model from the npm cache.
func convertGolden(t *testing.T, m goldenModel) []byte {
	t.Helper()
	file := assetstest.NPMFile(t, m.Path)
	var convert func(string) ([]byte, error)
	switch m.Kind {
	case "graph-model":
		convert = ConvertGraphModel
	case "face-api":
		convert = BuildFaceExpressionNet
	case "face-api-landmarks":
		convert = BuildFaceLandmark68Net
	default:
		t.Fatalf("model kind %q: want graph-model, face-api or face-api-landmarks", m.Kind)
	}
	start := time.Now()
	b, err := convert(file)
	if err != nil {
		t.Fatalf("converting %s: %v", m.Path, err)
	}
	t.Logf("%s: converted in %v, %d bytes, sha256 %x", m.Name, time.Since(start), len(b), sha256.Sum256(b))
	return b
}

// TestGolden runs the converted models in onnxruntime and compares their
// outputs with tfjs's (testdata/golden.json).
func TestGolden(t *testing.T) {
	g := readGolden(t)
	if len(g.Models) == 0 {
		t.Fatal("testdata/golden.json has no models")
	}
	for _, m := range g.Models {
		t.Run(m.Name, func(t *testing.T) {
			model := convertGolden(t, m)
			shape := []int64{1, int64(m.Size[0]), int64(m.Size[1]), int64(m.Size[2])}
			worst := 0.0
			for _, c := range m.Cases {
				if len(c.Probs) != m.outputs() {
					t.Fatalf("%s: golden has %d outputs, want %d", c.Name, len(c.Probs), m.outputs())
				}
				got := runONNX(t, model, shape, inputFor(t, m, c.Input))
				d := maxAbsDiff(got, c.Probs)
				worst = max(worst, d)
				if d > goldenTolerance {
					t.Errorf("%s: got %v, want %v (max abs difference %.3g > %g)", c.Name, got, c.Probs, d, goldenTolerance)
				}
			}
			t.Logf("%s: max abs difference from tfjs over %d inputs: %.3g", m.Name, len(m.Cases), worst)
		})
	}
}

// TestDeterministic converts each model twice and wants the same bytes.
func TestDeterministic(t *testing.T) {
	for _, m := range readGolden(t).Models {
		t.Run(m.Name, func(t *testing.T) {
			a, b := convertGolden(t, m), convertGolden(t, m)
			if !bytes.Equal(a, b) {
				t.Errorf("got %x then %x, want byte-identical conversions", sha256.Sum256(a), sha256.Sum256(b))
			}
		})
	}
}

// TestModelInterface checks the converted models' header, input and output.
func TestModelInterface(t *testing.T) {
	for _, m := range readGolden(t).Models {
		t.Run(m.Name, func(t *testing.T) {
			p := parseModel(t, convertGolden(t, m))
			checks := []struct {
				what      string
				got, want string
			}{
				{"producer", p.ProducerName + " " + p.ProducerVersion, producerName + " " + producerVersion},
				{"opset", fmt.Sprint(p.OpsetImport), fmt.Sprint([]*onnx.OperatorSetIdProto{{Version: opsetVersion}})},
				{"input", ioString(p.Graph.Input), fmt.Sprintf("[input [1 %d %d %d]]", m.Size[0], m.Size[1], m.Size[2])},
				{"output", ioString(p.Graph.Output), fmt.Sprintf("[probs [1 %d]]", m.outputs())},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s: got %s, want %s", c.what, c.got, c.want)
				}
			}
		})
	}
}

// ioString prints value infos as "[name [dims]...]".
func ioString(vs []*onnx.ValueInfoProto) string {
	var parts []string
	for _, v := range vs {
		var dims []int64
		for _, d := range v.GetType().GetTensorType().GetShape().GetDim() {
			dims = append(dims, d.GetDimValue())
		}
		parts = append(parts, fmt.Sprintf("%s %v", v.Name, dims))
	}
	return fmt.Sprint(parts)
}

// parseModel decodes a serialized ONNX model.
func parseModel(t *testing.T, b []byte) *onnx.ModelProto {
	t.Helper()
	var p onnx.ModelProto
	if err := proto.Unmarshal(b, &p); err != nil {
		t.Fatalf("decoding the ONNX model: %v", err)
	}
	return &p
}
