#!/usr/bin/env python3
"""Baseline: numpy timing of one training trial of an Elman RNN (float64).

One trial = TWO forward passes (track 0: clean weights w, track 1: perturbed
weights w+xi). Per track:
    h = zeros(B,H)
    for tau in range(W):
        h = tanh(x[:, tau:tau+1] * w_in[None,:] + h @ W_rec.T + b[None,:])
    y = h @ w_out + b_out

The perturbed weights (w + xi, O(H^2) adds) are formed inside the timed trial.
Timing: 1 warm-up trial, then `runs` timed trials (time.perf_counter).
Reports median of all runs, best of the first 3, best of all runs.
flops = 2 tracks * (W*H*(H+1)*B*2 + H*B*2)

Usage: /usr/bin/python3 elman.py [--runs N] [--configs H:W:B,...] [--csv FILE]
Thread count comes from OPENBLAS_NUM_THREADS (set it in the environment).
"""
import argparse
import ctypes
import os
import statistics
import sys
import time

import numpy as np


CORENAME = "reference"


def blas_info():
    """Return (blas .so path, openblas threads or None, openblas config or None)."""
    path = None
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1]
                base = os.path.basename(p)
                if "blas" in base and ".so" in base:
                    path = os.path.realpath(p)
                    break
    except OSError:
        pass
    nthr = cfg = None
    if path:
        try:
            lib = ctypes.CDLL(path)
            if hasattr(lib, "openblas_get_num_threads"):
                nthr = lib.openblas_get_num_threads()
            if hasattr(lib, "openblas_get_corename"):
                lib.openblas_get_corename.restype = ctypes.c_char_p
                global CORENAME
                CORENAME = lib.openblas_get_corename().decode()
            if hasattr(lib, "openblas_get_config"):
                lib.openblas_get_config.restype = ctypes.c_char_p
                cfg = lib.openblas_get_config().decode()
        except OSError:
            pass
    return path, nthr, cfg


def forward(x, W_rec, w_in, b, w_out, b_out):
    B, W = x.shape
    H = W_rec.shape[0]
    h = np.zeros((B, H))
    WT = W_rec.T  # view; numpy passes the transpose flag to dgemm
    for tau in range(W):
        h = np.tanh(x[:, tau:tau + 1] * w_in[None, :] + h @ WT + b[None, :])
    return h @ w_out + b_out


def trial(x, params, xi):
    y0 = forward(x, *params)
    pert = [p + d for p, d in zip(params, xi)]
    y1 = forward(x, *pert)
    return y0, y1


def bench(H, W, B, runs, rng):
    x = rng.standard_normal((B, W))
    W_rec = rng.standard_normal((H, H)) / np.sqrt(H)
    w_in = rng.standard_normal(H)
    b = rng.standard_normal(H) * 0.1
    w_out = rng.standard_normal(H) / np.sqrt(H)
    b_out = float(rng.standard_normal())
    params = [W_rec, w_in, b, w_out, b_out]
    sigma = 1e-3
    xi = [rng.standard_normal(W_rec.shape) * sigma, rng.standard_normal(H) * sigma,
          rng.standard_normal(H) * sigma, rng.standard_normal(H) * sigma,
          float(rng.standard_normal()) * sigma]

    trial(x, params, xi)  # warm-up
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        y0, y1 = trial(x, params, xi)
        ts.append(time.perf_counter() - t0)
    assert np.all(np.isfinite(y0)) and np.all(np.isfinite(y1))
    flops = 2 * (W * H * (H + 1) * B * 2 + H * B * 2)
    med = statistics.median(ts)
    best3 = min(ts[:3])
    best = min(ts)
    return dict(H=H, W=W, B=B, med_ms=med * 1e3, best3_ms=best3 * 1e3,
                best_ms=best * 1e3, gflops_med=flops / med / 1e9,
                gflops_best=flops / best / 1e9, flops=flops, runs=runs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--configs", default="",
                    help="comma list H:W:B (default: H{256,512} x W{8,32} x B{128,2968})")
    ap.add_argument("--csv", default="")
    a = ap.parse_args()

    if a.configs:
        cfgs = [tuple(int(v) for v in c.split(":")) for c in a.configs.split(",")]
    else:
        cfgs = [(H, W, B) for H in (256, 512) for W in (8, 32) for B in (128, 2968)]

    # force BLAS to load, then identify it
    np.ones((4, 4)) @ np.ones((4, 4))
    path, nthr, cfg = blas_info()
    env_thr = os.environ.get("OPENBLAS_NUM_THREADS", "")
    print(f"# numpy {np.__version__}  python {sys.version.split()[0]}  ({sys.executable})")
    print(f"# BLAS lib: {path}")
    if cfg:
        print(f"# OpenBLAS config: {cfg}")
    print(f"# OpenBLAS core (kernel) in use: {CORENAME}  OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '')!r}")
    print(f"# OPENBLAS_NUM_THREADS={env_thr!r}  openblas_get_num_threads()={nthr}")
    print(f"{'H':>4} {'W':>3} {'B':>5} {'thr':>3} {'median_ms':>10} {'best3_ms':>10} "
          f"{'best_ms':>10} {'GF/s_med':>9} {'GF/s_best':>9}", flush=True)
    rng = np.random.default_rng(12345)
    rows = []
    for H, W, B in cfgs:
        r = bench(H, W, B, a.runs, rng)
        r["threads"] = env_thr or "default"
        rows.append(r)
        print(f"{H:>4} {W:>3} {B:>5} {r['threads']:>3} {r['med_ms']:>10.2f} {r['best3_ms']:>10.2f} "
              f"{r['best_ms']:>10.2f} {r['gflops_med']:>9.2f} {r['gflops_best']:>9.2f}", flush=True)
    if a.csv:
        new = not os.path.exists(a.csv)
        with open(a.csv, "a") as f:
            if new:
                f.write("blas,core,H,W,B,threads,runs,median_ms,best3_ms,best_ms,gflops_med,gflops_best\n")
            for r in rows:
                f.write(f"{os.path.basename(path or '?')},{CORENAME},{r['H']},{r['W']},{r['B']},{r['threads']},"
                        f"{r['runs']},{r['med_ms']:.3f},{r['best3_ms']:.3f},{r['best_ms']:.3f},"
                        f"{r['gflops_med']:.3f},{r['gflops_best']:.3f}\n")


if __name__ == "__main__":
    main()
