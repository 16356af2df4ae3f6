package actors

import (
	"errors"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// unusedPlacer stands for scale-out in the tests of what Options.Validate
// refuses with a Placer; it places nothing.
type unusedPlacer struct{}

var errUnusedPlacer = errors.New("unusedPlacer places nothing")

func (unusedPlacer) Connect(*actor.ActorSystem) error   { return errUnusedPlacer }
func (unusedPlacer) Place(PlaceRequest) (Placed, error) { return Placed{}, errUnusedPlacer }
func (unusedPlacer) Unplace(string)                     {}
func (unusedPlacer) Probe(time.Duration) error          { return errUnusedPlacer }
func (unusedPlacer) Middleware() []actor.PropsOption    { return nil }
func (unusedPlacer) IDPrefix(string) string             { return "" }
func (unusedPlacer) Close()                             {}
