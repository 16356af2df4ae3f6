package environment_test

import (
	"fmt"

	"github.com/dopasim/dopasim/environment"
)

// XOR counts as solved only when every output is on the right side of 0.5
// and the mean squared error is below the tolerance.
func ExampleXOR_Solved() {
	x := environment.XOR{}
	for _, out := range [][]float64{
		{0.05, 0.95, 0.95, 0.05}, // right sides, MSE 0.0025
		{0.3, 0.7, 0.7, 0.3},     // right sides, MSE 0.09
		{0.01, 0.99, 0.49, 0.01}, // one wrong side
	} {
		fmt.Printf("%v MSE %.4f solved %v\n", out, x.Loss(out, 0), x.Solved(out, 0))
	}
	// Output:
	// [0.05 0.95 0.95 0.05] MSE 0.0025 solved true
	// [0.3 0.7 0.7 0.3] MSE 0.0900 solved false
	// [0.01 0.99 0.49 0.01] MSE 0.0651 solved false
}
