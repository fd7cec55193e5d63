//go:build js && wasm

// Command wasm is the in-browser preview: loaded lazily by the upload
// page, it finds the faces in a photo with the same BlazeFace weights the
// worker uses (run by shared/nn, since onnxruntime cannot build for the
// browser) and draws an emoji over each with the worker's own compositing
// code (shared/compose). The page decodes and downscales the photo itself
// (createImageBitmap and a canvas), so only RGBA pixels cross over.
//
// JavaScript API, on globalThis.igemoji once loaded:
//
//	load(model: Uint8Array, name?: string): void // a BlazeFace ONNX file under a name
//	                                             // ("back" by default; "front" for the webcam)
//	detect(rgba, width, height, name?): Face[]   // faces: {box:[x,y,w,h], score, roll}
//	preview(rgba, width, height, emoji, ew, eh, name?): {faces, rgba}
//	                                             // the photo with the emoji (RGBA ew×eh) on every face
package main

import (
	"errors"
	"image"
	"syscall/js"

	"github.com/igemoji/igemoji/shared/compose"
	"github.com/igemoji/igemoji/shared/face"
	"github.com/igemoji/igemoji/shared/nn"
	"github.com/igemoji/igemoji/wasm/preview"
)

func main() {
	models := map[string]*preview.Preview{}
	pick := func(args []js.Value, n int) *preview.Preview {
		name := "back"
		if len(args) > n && args[n].Type() == js.TypeString {
			name = args[n].String()
		}
		return models[name]
	}
	api := js.Global().Get("Object").New()
	api.Set("load", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) < 1 {
			return throw(errors.New("load(model: Uint8Array, name?: string)"))
		}
		m, err := nn.Load(bytesOf(args[0]))
		if err != nil {
			return throw(err)
		}
		p, err := preview.New(m)
		if err != nil {
			return throw(err)
		}
		name := "back"
		if len(args) > 1 {
			name = args[1].String()
		}
		models[name] = p
		return nil
	}))
	api.Set("detect", js.FuncOf(func(_ js.Value, args []js.Value) any {
		p := pick(args, 3)
		img, err := rgbaArgs(p, args, 3)
		if err != nil {
			return throw(err)
		}
		faces, err := p.Detect(img)
		if err != nil {
			return throw(err)
		}
		return facesJS(faces)
	}))
	api.Set("preview", js.FuncOf(func(_ js.Value, args []js.Value) any {
		p := pick(args, 6)
		img, err := rgbaArgs(p, args, 6)
		if err != nil {
			return throw(err)
		}
		// A canvas's pixels are not premultiplied: NRGBA, made into the
		// premultiplied copies Paste reads.
		emoji := &image.NRGBA{Pix: bytesOf(args[3]), Stride: 4 * args[4].Int(), Rect: image.Rect(0, 0, args[4].Int(), args[5].Int())}
		if len(emoji.Pix) != 4*args[4].Int()*args[5].Int() {
			return throw(errors.New("preview: emoji pixels do not match its size"))
		}
		faces, err := p.Detect(img)
		if err != nil {
			return throw(err)
		}
		places := make([]compose.Placement, len(faces))
		for i, f := range faces {
			places[i] = compose.Place(f.Box, f.Keypoints, f.Roll)
		}
		// The photo's pixels, from a canvas too, are straight alpha.
		compose.PasteStraight(img, compose.Prepare(emoji), places)
		out := js.Global().Get("Object").New()
		out.Set("faces", facesJS(faces))
		buf := js.Global().Get("Uint8ClampedArray").New(len(img.Pix))
		js.CopyBytesToJS(buf, img.Pix)
		out.Set("rgba", buf)
		return out
	}))
	js.Global().Set("igemoji", api)
	select {} // serve calls until the page goes
}

func rgbaArgs(p *preview.Preview, args []js.Value, n int) (*image.RGBA, error) {
	if p == nil {
		return nil, errors.New("no such model loaded; call load(model, name) first")
	}
	if len(args) != n && len(args) != n+1 {
		return nil, errors.New("wrong number of arguments")
	}
	w, h := args[1].Int(), args[2].Int()
	pix := bytesOf(args[0])
	if w <= 0 || h <= 0 || len(pix) != 4*w*h {
		return nil, errors.New("pixels do not match width×height×4")
	}
	return &image.RGBA{Pix: pix, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}, nil
}

func bytesOf(v js.Value) []byte {
	b := make([]byte, v.Get("length").Int())
	js.CopyBytesToGo(b, v)
	return b
}

func facesJS(faces []face.Detection) js.Value {
	arr := js.Global().Get("Array").New(len(faces))
	for i, f := range faces {
		o := js.Global().Get("Object").New()
		o.Set("box", js.ValueOf([]any{f.Box[0], f.Box[1], f.Box[2], f.Box[3]}))
		o.Set("score", f.Score)
		o.Set("roll", f.Roll)
		arr.SetIndex(i, o)
	}
	return arr
}

func throw(err error) any {
	js.Global().Get("console").Call("error", "igemoji:", err.Error())
	panic(js.Global().Get("Error").New(err.Error()))
}
