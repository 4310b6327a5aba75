"""Development data for train.py: a word-level tokenization of local text files.

    /usr/bin/python3 tools/train/make_dev_data.py OUT_DIR [--src DIR ...] [--vocab 8192]
        [--max-mb 12]

Reads *.py / *.txt / *.md / *.rst files under the source dirs (default: the Python standard
library), splits them into words, numbers, single punctuation characters and newlines, keeps the
vocab-1 most frequent pieces as ids 1.. and maps the rest to 0. Writes OUT_DIR/train.npy and
OUT_DIR/heldout.npy (uint16; the last 5% of files go to heldout) and OUT_DIR/vocab.json. Only for
exercising the trainer: it is not the project's tokenizer.
"""

import argparse
import collections
import json
import os
import re
import sys

import numpy as np

PIECE = re.compile(r"[A-Za-z]+|[0-9]+|\n|[^\sA-Za-z0-9]")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--src", action="append")
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--max-mb", type=float, default=12.0)
    args = ap.parse_args()
    srcs = args.src or [os.path.dirname(os.__file__)]
    files = []
    for src in srcs:
        for root, dirs, names in os.walk(src):
            dirs.sort()
            if "site-packages" in root or "dist-packages" in root:
                continue
            for nm in sorted(names):
                if nm.endswith((".py", ".txt", ".md", ".rst")):
                    files.append(os.path.join(root, nm))
    docs, total = [], 0
    for path in files:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (UnicodeDecodeError, OSError):
            continue
        docs.append(PIECE.findall(text))
        total += len(text)
        if total > args.max_mb * 1e6:
            break
    counts = collections.Counter(p for d in docs for p in d)
    vocab = ["<unk>"] + [p for p, _ in counts.most_common(args.vocab - 1)]
    index = {p: i for i, p in enumerate(vocab)}
    split = int(len(docs) * 0.95)

    def encode(ds):
        return np.array([index.get(p, 0) for d in ds for p in d], dtype=np.uint16)

    os.makedirs(args.out, exist_ok=True)
    train, held = encode(docs[:split]), encode(docs[split:])
    np.save(os.path.join(args.out, "train.npy"), train)
    np.save(os.path.join(args.out, "heldout.npy"), held)
    with open(os.path.join(args.out, "vocab.json"), "w") as f:
        json.dump(vocab, f)
    print(f"{len(docs)} files, train {train.size} tokens, heldout {held.size} tokens, "
          f"unk rate {float((train == 0).mean()):.4f}", file=sys.stderr)


if __name__ == "__main__":
    main()
