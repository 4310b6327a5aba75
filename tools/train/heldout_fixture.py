#!/usr/bin/python3
"""Writes the test fixtures of the demo models (tests/fixtures/demo/) from a corpus directory
made by corpus.py with --vocab:

  kjv-heldout.json  "tokens": the first N tokens of one held-out chapter (BOS first, never
                    trained on); "unigram_logprob": log p(token) of tokens[1:] under the add-one
                    unigram model of the training tokens (train + chat, as train.py estimates
                    it), so a test can compare the runtime's perplexity with the unigram's on
                    the same tokens; "prompts": the opening words of a few held-out chapters
  kjv-words.txt     every word of the training text (lower case, letters and apostrophes), one
                    per line: the vocabulary a continuation's words must come from
"""
import argparse
import json
import pathlib
import re

import numpy as np

V = 4096


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, type=pathlib.Path)
    ap.add_argument("--out", required=True, type=pathlib.Path)
    ap.add_argument("--tokens", type=int, default=384)
    ap.add_argument("--bos", type=int, default=2)
    args = ap.parse_args()
    train = np.concatenate([np.load(args.data / "train.npy"), np.load(args.data / "chat.npy")])
    held = np.load(args.data / "heldout.npy").astype(np.int64)
    counts = np.bincount(train, minlength=V).astype(np.float64) + 1.0
    logp = np.log(counts / counts.sum())
    starts = np.flatnonzero(held == args.bos)
    chapter = held[starts[2]:starts[2] + args.tokens]  # the third held-out chapter
    held_text = (args.data / "heldout.txt").read_text().split("<bos>")[1:]
    prompts = []
    for doc in held_text[3:6]:
        lines = doc.split("\n")
        prompts.append(lines[0] + "\n\n" + " ".join(lines[2].split()[:6]))
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "kjv-heldout.json", "w") as f:
        json.dump({"source": "tools/train/heldout_fixture.py on the held-out KJV chapters",
                   "tokens": chapter.tolist(),
                   "unigram_logprob": [round(float(x), 6) for x in logp[chapter[1:]]],
                   "prompts": prompts}, f)
        f.write("\n")
    words = set()
    for name in ["train.txt", "chat.txt"]:
        words.update(re.findall(r"[a-z']+", (args.data / name).read_text().lower()))
    (args.out / "kjv-words.txt").write_text("".join(w + "\n" for w in sorted(words)))
    unigram_ppl = float(np.exp(-logp[chapter[1:]].mean()))
    print(f"{len(chapter)} tokens, unigram perplexity {unigram_ppl:.1f}; {len(words)} words; "
          f"prompts {prompts}")


if __name__ == "__main__":
    main()
