package tfjs

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tinyFaceAPISpecs lists the weights of a face-api expression net with
// ch channels in every block (face-api's own has 32, 64, 128, 256).
func tinyFaceAPISpecs(ch int) []manifestSpec { return tinyFaceAPIHead(ch, 7) }

// tinyFaceAPIHead is tinyFaceAPISpecs with a head of outs outputs.
func tinyFaceAPIHead(ch, outs int) []manifestSpec {
	var specs []manifestSpec
	add := func(name string, shape ...int) {
		specs = append(specs, manifestSpec{Name: name, Shape: shape, Dtype: "float32"})
	}
	in := 3
	for d := range 4 {
		for c := range 4 {
			p := fmt.Sprintf("dense%d/conv%d", d, c)
			if d == 0 && c == 0 {
				add(p+"/filters", 3, 3, in, ch)
			} else {
				add(p+"/depthwise_filter", 3, 3, in, 1)
				add(p+"/pointwise_filter", 1, 1, in, ch)
			}
			add(p+"/bias", ch)
			in = ch
		}
	}
	add("fc/weights", ch, outs)
	add("fc/bias", outs)
	return specs
}

// writeManifest writes a one-group manifest with small float32 weights.
func writeManifest(t *testing.T, specs []manifestSpec) string {
	t.Helper()
	dir := t.TempDir()
	var data []byte
	r := splitmix64(7)
	for _, s := range specs {
		n, err := numElements(s.Shape)
		if err != nil {
			t.Fatal(err)
		}
		for range n {
			data = append(data, le32(math.Float32bits(float32(int(r.next()%9)-4)/8))...)
		}
	}
	b, err := json.Marshal([]manifestGroup{{Paths: []string{"w.bin"}, Weights: specs}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "w.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "manifest.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBuildFaceExpressionNetTiny(t *testing.T) {
	model, err := BuildFaceExpressionNet(writeManifest(t, tinyFaceAPISpecs(2)))
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	p := parseModel(t, model)
	if got, want := ioString(p.Graph.Input), "[input [1 112 112 3]]"; got != want {
		t.Errorf("input: got %s, want %s", got, want)
	}
	if got, want := ioString(p.Graph.Output), "[probs [1 7]]"; got != want {
		t.Errorf("output: got %s, want %s", got, want)
	}
	counts := map[string]int{}
	for _, n := range p.Graph.Node {
		counts[n.OpType]++
	}
	// 4 blocks of 4 convs, 3 of them (the first: 4) separable in two convs.
	if got, want := counts["Conv"], 1+15*2; got != want {
		t.Errorf("Conv nodes: got %d, want %d", got, want)
	}
	// Each block adds 1 + 2 + 3 times.
	if got, want := counts["Add"], 4*6; got != want {
		t.Errorf("Add nodes: got %d, want %d", got, want)
	}
}

// The landmark net is the expression net's extractor with 136 raw outputs.
func TestBuildFaceLandmark68NetTiny(t *testing.T) {
	model, err := BuildFaceLandmark68Net(writeManifest(t, tinyFaceAPIHead(2, 136)))
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	p := parseModel(t, model)
	if got, want := ioString(p.Graph.Output), "[probs [1 136]]"; got != want {
		t.Errorf("output: got %s, want %s", got, want)
	}
	for _, n := range p.Graph.Node {
		if n.OpType == "Softmax" {
			t.Errorf("got a Softmax node %q, want raw outputs", n.Name)
		}
	}
	// An expression net's weights are not a landmark net's, nor the reverse.
	if _, err := BuildFaceLandmark68Net(writeManifest(t, tinyFaceAPISpecs(2))); err == nil || !strings.Contains(err.Error(), `weight "fc/weights"`) {
		t.Errorf("landmarks from expression weights: got error %v, want one about fc/weights", err)
	}
	if _, err := BuildFaceExpressionNet(writeManifest(t, tinyFaceAPIHead(2, 136))); err == nil || !strings.Contains(err.Error(), `weight "fc/weights"`) {
		t.Errorf("expressions from landmark weights: got error %v, want one about fc/weights", err)
	}
}

func TestBuildFaceExpressionNetErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func([]manifestSpec) []manifestSpec
		want string
	}{
		{"missing weight", func(s []manifestSpec) []manifestSpec {
			for i := range s {
				if s[i].Name == "dense2/conv3/bias" {
					return append(s[:i], s[i+1:]...)
				}
			}
			return s
		}, `weight "dense2/conv3/bias" is missing`},
		{"extra weight", func(s []manifestSpec) []manifestSpec {
			return append(s, manifestSpec{Name: "dense4/conv0/bias", Shape: []int{2}, Dtype: "float32"})
		}, `weight "dense4/conv0/bias" is not part of`},
		{"wrong fc shape", func(s []manifestSpec) []manifestSpec {
			s[len(s)-2].Shape = []int{3, 7}
			return s
		}, `weight "fc/weights"`},
		{"wrong channels", func(s []manifestSpec) []manifestSpec {
			s[0].Shape = []int{3, 3, 1, 2}
			return s
		}, `weight "dense0/conv0/filters"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := BuildFaceExpressionNet(writeManifest(t, tt.edit(tinyFaceAPISpecs(2))))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
