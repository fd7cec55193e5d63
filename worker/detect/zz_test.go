package detect

import (
	"testing"
	"github.com/igemoji/igemoji/shared/face"
)

func BenchmarkZZ(b *testing.B) {
	d := detector(b)
	img := sample(b, 1)
	s := <-d.pool
	defer func() { d.pool <- s }()
	src := face.NewSource(img)
	b.Run("ort", func(b *testing.B) {
		for b.Loop() {
			s.s.Run()
		}
	})
	b.Run("fill-full", func(b *testing.B) {
		for b.Loop() {
			src.Fill(s.in.GetData(), face.Letterbox(src.W, src.H), 256)
		}
	})
	b.Run("fill-tile", func(b *testing.B) {
		for b.Loop() {
			src.Fill(s.in.GetData(), face.Window{X: 100, Y: 100, Side: 366}, 256)
		}
	})
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			face.Decode(s.scores, s.regs, d.spec, 0.5)
		}
	})
}
