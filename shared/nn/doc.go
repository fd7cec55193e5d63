// Package nn runs small convolutional ONNX models, such as MediaPipe's
// BlazeFace face detectors, in pure Go: the browser build (GOOS=js) cannot
// use onnxruntime, so this is the forward pass it runs on the very same
// weights that the worker gives onnxruntime.
//
// Load parses the model (a minimal ONNX protobuf reader: Parse), infers
// every tensor's static shape, folds constant nodes, fuses the patterns that
// BlazeFace is made of (Conv followed by a residual Add and/or a Relu
// becomes one step) and lays the intermediate tensors out in a few reused
// buffers, so Run allocates nothing. Tensors are float32 in the graph's own
// layout (the BlazeFace exports transpose their NHWC input to NCHW, run
// every convolution in NCHW and transpose the heads back; Run follows them).
//
// The operators (ONNX opset up to 13, default domain) and what of them is
// supported:
//
//   - Conv: any kernel size, strides, dilations, explicit pads or auto_pad,
//     group (grouped and depthwise), optional bias. 1x1 stride-1 unpadded
//     convolutions are a matrix product over the contiguous pixel rows in
//     register tiles of 4 output channels by 2 pixels; depthwise ones a
//     direct (im2col-free) row kernel with the borders apart; a depthwise
//     convolution whose only reader is a 1x1 one runs fused with it, a band
//     of rows at a time, its output never leaving L1; the rest (BlazeFace's
//     first, 5x5 stride 2) gathers each output row's windows and reuses the
//     1x1 kernel.
//   - Add: same shapes, or numpy broadcasting.
//   - Relu.
//   - MaxPool: kernel_shape, strides, pads, dilations, ceil_mode, auto_pad
//     (2-D only; no Indices output).
//   - Transpose: any perm (default: reversed axes).
//   - Reshape: a constant shape with 0 (copy the input's dimension) and -1
//     (inferred); allowzero is rejected. Costs nothing: the output shares
//     the input's buffer.
//   - Concat: any axis (negative counts from the end).
//   - ConstantOfShape: of a constant shape, folded at Load.
//
// Anything else, or an attribute value outside the above, fails Load with
// an error naming the node rather than computing something else.
//
// All arithmetic is scalar float32 (Go compiles no SIMD for WebAssembly),
// summing each output in the order of its inputs, so results differ from
// onnxruntime's vectorized FMA kernels by float32 rounding: a few units in
// the last place of the terms summed. On BlazeFace's back model a forward
// pass costs about 190 million multiply-adds: about 65-70 ms natively on
// one core of a 2020s x86 server, about twice that in WebAssembly under
// Node 20.
//
// A Model is not safe for concurrent use: Run reuses the Model's buffers,
// and the slices it returns are those buffers, valid until the next Run.
// Clone gives another Model sharing the (read-only) weights, for another
// goroutine.
package nn
