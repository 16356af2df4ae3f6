package baseline

import (
	"fmt"
	"math"
	"testing"

	"github.com/dopasim/dopasim/environment"
	"github.com/dopasim/dopasim/synapse"
)

// BenchmarkFit fits the baselines on a series of the paper's length (5 000
// samples, 2 968 training windows of 32) for reservoirs of the default
// network's size and the paper's.
func BenchmarkFit(b *testing.B) {
	v := make([]float64, 5000)
	for i := range v {
		v[i] = math.Sin(0.05*float64(i)) + 0.3*math.Sin(0.173*float64(i))
	}
	cfg := environment.DefaultForecast
	cfg.Window = 32
	f, err := environment.NewForecast("two sines", v, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("AR", func(b *testing.B) {
		for b.Loop() {
			if _, err := AR(f); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, units := range []int{16, 128, 512} {
		b.Run(fmt.Sprintf("ESN/H=%d", units), func(b *testing.B) {
			for b.Loop() {
				if _, err := ESN(f, ESNConfig{Units: units}, synapse.NewSource(1)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
