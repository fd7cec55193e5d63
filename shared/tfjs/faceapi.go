package tfjs

import (
	"fmt"
	"path/filepath"
)

// faceAPIMeanRGB is the mean pixel face-api subtracts before dividing by 255
// (FaceFeatureExtractor.forwardInput).
var faceAPIMeanRGB = [3]float32{122.782, 117.001, 104.298}

// faceAPIInputSize is the side of the square input face-api's expression net
// takes (FaceFeatureExtractor: input.toBatchTensor(112, true)).
const faceAPIInputSize = 112

// BuildFaceExpressionNet builds face-api's expression net from its weights manifest into ONNX bytes: input "input" [1,112,112,3] float32 RGB in 0..255 (put face-api's own normalization inside the graph), output "probs" [1,7] softmax in face-api's class order.
//
// The graph is @vladmandic/face-api 1.7.15's FaceExpressionNet: normalize
// ((rgb - [122.782, 117.001, 104.298]) / 255), four denseBlock4 blocks
// (dense0 starts with a plain 3x3 conv, the others with a depthwise separable
// one, all with stride 2 and SAME padding; then three stride-1 separable
// convs whose inputs are ReLUs of sums of the earlier outputs), a 7x7
// average pool with stride 2 (VALID), the fully connected layer "fc" and a
// softmax. The class order is face-api's: neutral, happy, sad, angry,
// fearful, disgusted, surprised (FaceAPIExpressionOrder). The output is
// deterministic, like ConvertGraphModel's.
func BuildFaceExpressionNet(manifestJSON string) ([]byte, error) {
	return buildFaceAPI(manifestJSON, "FaceExpressionNet", "face_expression_net", 7, true)
}

// BuildFaceLandmark68Net builds face-api's 68-point landmark net (the full
// one, not the tiny) into ONNX bytes: the same input as
// BuildFaceExpressionNet and, under the same output name "probs", [1,136]
// raw outputs: x0, y0, x1, y1, ... of the 68 points as fractions of the
// 112x112 input (face-api's FaceLandmark68NetBase before its postProcess).
//
// The graph is BuildFaceExpressionNet's with a 136-way fully connected
// layer and no softmax: face-api's FaceLandmark68Net and FaceExpressionNet
// share the FaceFeatureExtractor architecture (their weights differ).
func BuildFaceLandmark68Net(manifestJSON string) ([]byte, error) {
	return buildFaceAPI(manifestJSON, "FaceLandmark68Net", "face_landmark_68_net", 136, false)
}

// buildFaceAPI builds a FaceFeatureExtractor net whose head is a fully
// connected layer of classes outputs, softmaxed if softmax.
func buildFaceAPI(manifestJSON, net, graphName string, classes int, softmax bool) ([]byte, error) {
	groups, err := readManifestFile(manifestJSON)
	if err != nil {
		return nil, err
	}
	weights, order, err := loadWeights(filepath.Dir(manifestJSON), groups)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", manifestJSON, err)
	}
	f := &faceAPI{b: newBuilder(), weights: weights, used: make(map[string]bool)}
	out, err := f.build(classes, softmax)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", manifestJSON, err)
	}
	for _, name := range order {
		if !f.used[name] {
			return nil, fmt.Errorf("%s: weight %q is not part of face-api's %s", manifestJSON, name, net)
		}
	}
	base := filepath.Base(manifestJSON)
	return f.b.marshal(graphName, "face-api's "+net+" built from "+base+" by igemoji's shared/tfjs", out)
}

type faceAPI struct {
	b       *builder
	weights map[string]*tensor
	used    map[string]bool
}

// weight fetches a float32 weight and checks its rank; dims that are not -1
// in want must match.
func (f *faceAPI) weight(name string, want ...int) (*tensor, error) {
	t := f.weights[name]
	if t == nil {
		return nil, fmt.Errorf("weight %q is missing", name)
	}
	ok := t.F32 != nil && len(t.Shape) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = want[i] == -1 || want[i] == t.Shape[i]
	}
	if !ok {
		return nil, fmt.Errorf("weight %q: got %s %v, want float32 %v (-1: any)", name, t.Dtype, t.Shape, want)
	}
	f.used[name] = true
	return t, nil
}

// bias adds the 1-D bias "prefix/bias" of n channels.
func (f *faceAPI) bias(prefix string, n int) (value, error) {
	t, err := f.weight(prefix+"/bias", n)
	if err != nil {
		return value{}, err
	}
	return f.b.floatConst(t.Name, dims64(t.Shape), t.F32), nil
}

func (f *faceAPI) build(classes int, softmax bool) (value, error) {
	b := f.b
	s := int64(faceAPIInputSize)
	x, err := b.toNCHW("nchw", b.graphInput([]int64{1, s, s, 3}))
	if err != nil {
		return value{}, err
	}
	mean := b.floatConst("mean_rgb", []int64{1, 3, 1, 1}, faceAPIMeanRGB[:])
	x = b.op("Sub", "normalize/sub", []value{x, mean}, x.shape)
	x = b.op("Div", "normalize/div", []value{x, b.floatConst("255", nil, []float32{255})}, x.shape)
	for i := range 4 {
		if x, err = f.denseBlock4(fmt.Sprintf("dense%d", i), x, i == 0); err != nil {
			return value{}, err
		}
	}
	x, err = b.pool("AveragePool", "avg_pool", x, spatial2D{kernel: [2]int{7, 7}, strides: [2]int{2, 2}, padding: "VALID"})
	if err != nil {
		return value{}, err
	}
	// face-api flattens the NHWC pool output; that matches NCHW's only
	// while the pool's output is 1x1, as it is for a 112x112 input.
	if x.shape[2] != 1 || x.shape[3] != 1 {
		return value{}, fmt.Errorf("average pool output %v: want 1x1", x.shape)
	}
	x = b.op("Flatten", "flatten", []value{x}, []int64{1, x.shape[1]}, attrInt("axis", 1))
	w, err := f.weight("fc/weights", int(x.shape[1]), classes)
	if err != nil {
		return value{}, err
	}
	fcb, err := f.bias("fc", classes)
	if err != nil {
		return value{}, err
	}
	fcw := b.floatConst(w.Name, dims64(w.Shape), w.F32)
	x = b.op("Gemm", "fc", []value{x, fcw, fcb}, []int64{1, int64(classes)})
	if !softmax {
		return x, nil
	}
	return b.op("Softmax", "softmax", []value{x}, x.shape, attrInt("axis", 1)), nil
}

// denseBlock4 mirrors face-api's denseBlock4 (isScaleDown true):
//
//	out1 = relu(first ? conv(x, stride 2) + bias : sepConv(x, stride 2))
//	out2 = sepConv(out1)
//	in3  = relu(out1 + out2)
//	out3 = sepConv(in3)
//	in4  = relu(out1 + (out2 + out3))
//	out4 = sepConv(in4)
//	return relu(out1 + (out2 + (out3 + out4)))
//
// keeping face-api's order of additions.
func (f *faceAPI) denseBlock4(prefix string, x value, first bool) (value, error) {
	b := f.b
	var out1 value
	var err error
	if first {
		t, err := f.weight(prefix+"/conv0/filters", -1, -1, int(x.shape[1]), -1)
		if err != nil {
			return value{}, err
		}
		dims, data, err := hwioToOIHW(t)
		if err != nil {
			return value{}, err
		}
		bias, err := f.bias(prefix+"/conv0", t.Shape[3])
		if err != nil {
			return value{}, err
		}
		out1, err = b.conv(prefix+"/conv0", x, b.floatConst(t.Name, dims, data), &bias,
			spatial2D{strides: [2]int{2, 2}, dilations: [2]int{1, 1}, padding: "SAME"}, 1)
		if err != nil {
			return value{}, err
		}
	} else if out1, err = f.sepConv(prefix+"/conv0", x, 2); err != nil {
		return value{}, err
	}
	out1 = b.relu(prefix+"/out1", out1)
	out2, err := f.sepConv(prefix+"/conv1", out1, 1)
	if err != nil {
		return value{}, err
	}
	sum, err := b.add(prefix+"/add12", out1, out2)
	if err != nil {
		return value{}, err
	}
	out3, err := f.sepConv(prefix+"/conv2", b.relu(prefix+"/in3", sum), 1)
	if err != nil {
		return value{}, err
	}
	in4, err := f.sums(prefix+"/in4", out1, out2, out3)
	if err != nil {
		return value{}, err
	}
	out4, err := f.sepConv(prefix+"/conv3", b.relu(prefix+"/in4", in4), 1)
	if err != nil {
		return value{}, err
	}
	sum, err = f.sums(prefix+"/out", out1, out2, out3, out4)
	if err != nil {
		return value{}, err
	}
	return b.relu(prefix+"/out", sum), nil
}

// sums adds xs right to left: xs[0] + (xs[1] + (... + xs[n-1])).
func (f *faceAPI) sums(name string, xs ...value) (value, error) {
	acc := xs[len(xs)-1]
	for i := len(xs) - 2; i >= 0; i-- {
		var err error
		if acc, err = f.b.add(fmt.Sprintf("%s/add%d", name, i), xs[i], acc); err != nil {
			return value{}, err
		}
	}
	return acc, nil
}

// sepConv mirrors face-api's depthwiseSeparableConv: tf.separableConv2d
// (depthwise 3x3 with the stride and SAME padding, then a 1x1 pointwise conv)
// plus the bias.
func (f *faceAPI) sepConv(prefix string, x value, stride int) (value, error) {
	b := f.b
	c := int(x.shape[1])
	dw, err := f.weight(prefix+"/depthwise_filter", -1, -1, c, 1)
	if err != nil {
		return value{}, err
	}
	pw, err := f.weight(prefix+"/pointwise_filter", 1, 1, c, -1)
	if err != nil {
		return value{}, err
	}
	bias, err := f.bias(prefix, pw.Shape[3])
	if err != nil {
		return value{}, err
	}
	dims, data, err := depthwiseToOIHW(dw)
	if err != nil {
		return value{}, err
	}
	y, err := b.conv(prefix+"/depthwise", x, b.floatConst(dw.Name, dims, data), nil,
		spatial2D{strides: [2]int{stride, stride}, dilations: [2]int{1, 1}, padding: "SAME"}, int64(c))
	if err != nil {
		return value{}, err
	}
	if dims, data, err = hwioToOIHW(pw); err != nil {
		return value{}, err
	}
	return b.conv(prefix+"/pointwise", y, b.floatConst(pw.Name, dims, data), &bias,
		spatial2D{strides: [2]int{1, 1}, dilations: [2]int{1, 1}, padding: "VALID"}, 1)
}
