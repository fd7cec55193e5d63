package tfjs

import (
	"strings"
	"testing"
)

func TestWindow(t *testing.T) {
	tests := []struct {
		name                        string
		padding                     string
		in, k, stride, dilation     int
		wantOut, wantPre, wantAfter int
	}{
		// TensorFlow puts the odd cell of SAME padding after the input.
		{"same stride 2 even input", "SAME", 64, 3, 2, 1, 32, 0, 1},
		{"same stride 2 face-api", "SAME", 112, 3, 2, 1, 56, 0, 1},
		{"same stride 2 odd input", "SAME", 7, 3, 2, 1, 4, 1, 1},
		{"same stride 1", "SAME", 64, 3, 1, 1, 64, 1, 1},
		{"same even kernel", "SAME", 6, 2, 1, 1, 6, 0, 1},
		{"same 1x1 stride 2", "SAME", 5, 1, 2, 1, 3, 0, 0},
		{"same needs no padding", "SAME", 8, 3, 3, 1, 3, 0, 1},
		{"same kernel larger than input", "SAME", 2, 5, 1, 1, 2, 2, 2},
		{"same dilated", "SAME", 4, 3, 1, 2, 4, 2, 2},
		{"same dilated stride 2", "SAME", 9, 3, 2, 2, 5, 2, 2},
		{"same max pool 3 stride 2", "SAME", 32, 3, 2, 1, 16, 0, 1},
		{"valid", "VALID", 64, 3, 2, 1, 31, 0, 0},
		{"valid exact", "VALID", 7, 7, 2, 1, 1, 0, 0},
		{"valid dilated", "VALID", 9, 3, 1, 3, 3, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, pre, after, err := window(tt.padding, tt.in, tt.k, tt.stride, tt.dilation)
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if out != tt.wantOut || pre != tt.wantPre || after != tt.wantAfter {
				t.Errorf("got out %d, pads %d+%d; want out %d, pads %d+%d", out, pre, after, tt.wantOut, tt.wantPre, tt.wantAfter)
			}
		})
	}
}

func TestWindowErrors(t *testing.T) {
	tests := []struct {
		name                    string
		padding                 string
		in, k, stride, dilation int
		want                    string
	}{
		{"explicit padding", "EXPLICIT", 8, 3, 1, 1, `"EXPLICIT"`},
		{"valid kernel too large", "VALID", 2, 3, 1, 1, "larger than input"},
		{"zero stride", "SAME", 8, 3, 0, 1, "bad window"},
		{"empty input", "SAME", 0, 3, 1, 1, "bad window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := window(tt.padding, tt.in, tt.k, tt.stride, tt.dilation)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
