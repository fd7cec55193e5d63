package tfjs

import "fmt"

// window computes, for one spatial axis of TensorFlow's convolution or
// pooling, the output size and the padding before and after the input.
// SAME gives ceil(in/stride) outputs and splits the padding needed for that
// with the smaller half first (so an odd total puts the extra cell after the
// input, as ONNX's SAME_UPPER does); VALID pads nothing and gives
// floor((in-k')/stride)+1 outputs, k' being the dilated kernel size.
func window(padding string, in, k, stride, dilation int) (out, before, after int, err error) {
	if in <= 0 || k <= 0 || stride <= 0 || dilation <= 0 {
		return 0, 0, 0, fmt.Errorf("bad window: input %d, kernel %d, stride %d, dilation %d", in, k, stride, dilation)
	}
	eff := (k-1)*dilation + 1
	switch padding {
	case "SAME":
		out = (in + stride - 1) / stride
		total := max((out-1)*stride+eff-in, 0)
		before = total / 2
		after = total - before
		return out, before, after, nil
	case "VALID":
		if in < eff {
			return 0, 0, 0, fmt.Errorf("VALID window: kernel %d (dilated) is larger than input %d", eff, in)
		}
		return (in-eff)/stride + 1, 0, 0, nil
	default:
		return 0, 0, 0, fmt.Errorf("padding %q is not supported (want SAME or VALID)", padding)
	}
}
