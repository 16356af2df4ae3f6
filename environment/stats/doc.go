// Package stats holds the statistics dopasim reports over seeds: the
// ordinary median and quantiles, the interquartile range, a bootstrap
// interval of the median, and paired tests of two methods run on the same
// seeds (the sign test and the Wilcoxon signed-rank test) with Holm's
// correction for testing several methods against one.
//
// Values may be +Inf: a run that never solved its task is "slower than
// any", and sorts last; a difference of two such runs is a tie. NaN is not
// a value: callers map it (a diverged run) to +Inf or leave it out.
//
// The package may not import protoactor or zap, start goroutines, read the
// clock or use a global random source (the bootstrap takes a rand.Source);
// it uses the standard library only.
package stats
