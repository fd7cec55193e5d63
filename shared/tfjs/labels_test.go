package tfjs

import (
	"testing"

	"github.com/igemoji/igemoji/shared/moji"
)

// TestLabelOrders checks that each class order names every moji.Expression
// exactly once.
func TestLabelOrders(t *testing.T) {
	tests := []struct {
		name  string
		order [7]string
	}{
		{"FaceAPIExpressionOrder", FaceAPIExpressionOrder},
		{"HumanEmotionOrder", HumanEmotionOrder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[moji.Expression]bool{}
			for _, label := range tt.order {
				e, ok := moji.ParseExpression(label)
				if !ok {
					t.Errorf("got label %q, want a moji.Expression", label)
				}
				if seen[e] {
					t.Errorf("got %q twice, want each class once", label)
				}
				seen[e] = true
			}
			if len(seen) != len(moji.Expressions) {
				t.Errorf("got %d classes, want %d", len(seen), len(moji.Expressions))
			}
		})
	}
}
