#!/usr/bin/python3
"""The runtime's held-out perplexity: `vkllm score --perplexity --json` over consecutive windows
of the held-out token ids (the same non-overlapping windows train.py evaluates), aggregated over
all predicted tokens, with the add-one unigram model's perplexity on the same targets.

Usage: /usr/bin/python3 tools/train/runtime_perplexity.py MODEL.gguf --data DIR [--window 512]
"""
import argparse
import json
import math
import pathlib
import subprocess

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--data", required=True, type=pathlib.Path)
    ap.add_argument("--window", type=int, default=512)
    ap.add_argument("--vkllm", default="build/vkllm")
    args = ap.parse_args()
    held = np.load(args.data / "heldout.npy").astype(np.int64)
    train = np.concatenate([np.load(args.data / "train.npy"), np.load(args.data / "chat.npy")])
    V = 4096
    logp = np.log((np.bincount(train, minlength=V) + 1.0) / (train.size + V))
    W = args.window
    nll, n, uni = 0.0, 0, 0.0
    for i in range((held.size - 1) // W):
        window = held[i * W:i * W + W + 1]
        out = subprocess.run([args.vkllm, "score", "-m", args.model, "--perplexity", "--json",
                              "--tokens", ",".join(map(str, window))],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out)
        nll += r["mean_nll"] * r["n_predicted"]
        n += r["n_predicted"]
        uni -= float(logp[window[1:]].sum())
    print(f"{args.model}: held-out perplexity {math.exp(nll / n):.2f} over {n} targets "
          f"(windows of {W + 1} tokens); unigram (add-one, train + chat) {math.exp(uni / n):.2f}; "
          f"ratio {math.exp(uni / n) / math.exp(nll / n):.1f}")


if __name__ == "__main__":
    main()
