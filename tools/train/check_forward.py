"""Per-position top-K log-probabilities of a trained-weights directory, for comparison with
`vkllm score --json` on the GGUF packed from the same directory.

    /usr/bin/python3 tools/train/check_forward.py WEIGHTS_DIR --tokens 2,17,99 [--top 5]

Prints {"positions": [{"top": [[id, logprob], ...]}, ...]}: entry i is the distribution of the
token following input token i (log-softmax of the softcapped logits, one sequence at positions
0..T-1, float32 throughout).
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpu_setup  # noqa: E402,F401  (before torch)

import torch  # noqa: E402

import gemma4_torch as g4  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("weights")
    ap.add_argument("--tokens", required=True, help="comma-separated token ids")
    ap.add_argument("--top", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = g4.load_weights(args.weights, precision="f32")
    V = model.shape["n_vocab"]
    try:
        ids = [int(t) for t in args.tokens.split(",") if t.strip() != ""]
    except ValueError:
        ap.error("--tokens: expected comma-separated integers")
    if not ids:
        ap.error("--tokens: no token ids given")
    bad = [t for t in ids if not 0 <= t < V]
    if bad:
        ap.error(f"--tokens: ids {bad[:5]} outside 0..{V - 1}")
    k = max(1, min(args.top, V))
    with torch.no_grad():
        logits = model(torch.tensor(ids, dtype=torch.int64)[None])[0]
        logp = torch.log_softmax(logits.double(), dim=-1)
        vals, idx = torch.topk(logp, k, dim=-1)
    positions = [{"top": [[int(i), float(v)] for i, v in zip(idx[p].tolist(), vals[p].tolist())]}
                 for p in range(len(ids))]
    print(json.dumps({"positions": positions}))


if __name__ == "__main__":
    main()
