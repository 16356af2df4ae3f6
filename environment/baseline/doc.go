// Package baseline holds the forecasters that put a trained network in
// context: each is fitted in closed form on the training windows of an
// environment.Forecast (the same split, normalisation and windows the
// networks learn from), chooses its one knob, a ridge penalty, on the
// validation windows, and predicts through the same environment.Predictor
// as a trained network, so every score (one-step, free-running, valid
// time) is computed the same way for both.
//
//   - AR is a linear autoregression: the next value as a weighted sum of the
//     window's values plus a constant, fitted by (ridge) least squares.
//   - ESN is an echo state network: a fixed random recurrent layer of the
//     network's size, driven by each window as an Elman network is, whose
//     final state feeds a linear readout fitted by ridge regression. Only
//     the readout is fitted; the reservoir is drawn once from a
//     rand.Source.
//
// Persistence (the next value equals the last) is environment's
// Forecast.Persistence.
//
// The package may not import protoactor or zap, start goroutines, read the
// clock or use a global random source; its linear algebra is gonum's.
package baseline
