package neuromod_test

import (
	"fmt"

	"github.com/dopasim/dopasim/neuromod"
)

// The dopamine actor steps a Modulator once per trial. Dopamine1 divides the
// step by the recent RPE magnitude, so halving every loss leaves η·|δ|
// unchanged while plain weight perturbation's step halves.
func Example() {
	for _, rule := range []neuromod.Rule{neuromod.Fixed, neuromod.Dopamine1} {
		for _, scale := range []float64{1, 0.5} {
			m, _ := neuromod.New(neuromod.Config{Rule: rule, Eta: 0.3, Sigma: 1e-3, Beta: 0.9})
			sig, _ := m.Step(neuromod.Losses{Clean: 0.25 * scale, Plus: 0.2502 * scale})
			fmt.Printf("%-9s scale %.1f: δ = %.1e, η = %.3g, η·|δ| = %.2e\n", rule, scale, sig.Delta, sig.Eta, sig.Eta*sig.Delta)
		}
	}
	// Output:
	// wp        scale 1.0: δ = 2.0e-04, η = 0.3, η·|δ| = 6.00e-05
	// wp        scale 0.5: δ = 1.0e-04, η = 0.3, η·|δ| = 3.00e-05
	// dopamine1 scale 1.0: δ = 2.0e-04, η = 1.5, η·|δ| = 3.00e-04
	// dopamine1 scale 0.5: δ = 1.0e-04, η = 3, η·|δ| = 3.00e-04
}
