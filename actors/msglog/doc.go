// Package msglog defines dopasim's message log, a JSON-lines file with one
// record per message between actors or per event (a trial's outcome, a
// weight change), and reads and inspects it: summaries, filters, weight
// histories, diffs and Chrome trace-event export (docs/message-log.md).
//
// The actors package writes the log, from protoactor middleware, with the zap
// encoder configured here (Encoder); this package never imports protoactor.
// It starts no goroutines and reads no clock: everything it reads and writes
// comes through io.Reader and io.Writer, so a log of any size streams through
// in constant memory.
package msglog
