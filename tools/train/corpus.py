#!/usr/bin/python3
"""Builds the training corpus of the vkllm demo models from the King James Bible.

Source: Debian's `bible-kjv-text` (the KJV text, public domain: the translation dates from 1611)
read through the `bible` program of `bible-kjv`. Nothing is downloaded.

Writes to OUT:
  train.txt    chapters not held out, one document per chapter, separated by "<bos>"
  heldout.txt  every 20th chapter (index % 20 == 7): never trained on
  chat.txt     chat-shaped samples built from training chapters: a user turn asking to continue
               a passage (1-3 verses), the model turn continuing it (the next 1-3 verses),
               rendered the way `vkllm template` renders a one-turn chat with the generation
               prompt, then the answer and <turn|>
  chat_heldout.txt  the same from held-out chapters (for evaluation only)
  <name>.npy   with --vocab: each file's token ids (uint16), from `vkllm tokenize` on that
               vocabulary (special-token texts such as <bos> and <|turn> parsed)

A chapter document is its title line ("Genesis 1"), a blank line, then one verse per line
without its number. Deterministic: the same package gives the same files.
"""
import argparse
import json
import pathlib
import random
import re
import subprocess

import numpy as np

HELD_OUT_EVERY = 20
HELD_OUT_PHASE = 7
PROMPTS = [
    "Continue this passage:\n\n{}",
    "Continue the text:\n\n{}",
    "What comes next?\n\n{}",
    "Please continue:\n\n{}",
    "{}",
]


def read_chapters():
    text = subprocess.run(["bible", "-l0", "gen1:1-rev22:21"], check=True,
                          capture_output=True, text=True).stdout
    chapters = []
    for line in text.splitlines():
        if not line.strip():
            continue
        verse = re.match(r"^\s+(\d+) (.*)$", line)
        if verse:
            chapters[-1][1].append(verse.group(2).strip())
        else:
            chapters.append((line.strip(), []))
    return chapters


def document(title, verses):
    return title + "\n\n" + "\n".join(verses) + "\n"


def chat_sample(rng, verses):
    n_in, n_out = rng.randint(1, 3), rng.randint(1, 3)
    if len(verses) < n_in + n_out:
        return None
    start = rng.randint(0, len(verses) - n_in - n_out)
    passage = "\n".join(verses[start:start + n_in])
    answer = "\n".join(verses[start + n_in:start + n_in + n_out])
    user = rng.choice(PROMPTS).format(passage)
    return ("<bos><|turn>user\n" + user + "<turn|>\n<|turn>model\n<|channel>thought\n<channel|>" +
            answer + "<turn|>\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, type=pathlib.Path)
    ap.add_argument("--chat-per-chapter", type=int, default=2)
    ap.add_argument("--vocab", type=pathlib.Path, help="tokenizer GGUF: also write <name>.npy")
    ap.add_argument("--vkllm", default="build/vkllm", help="the vkllm binary")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    chapters = read_chapters()
    rng = random.Random(1611)
    train, heldout, chat, chat_heldout = [], [], [], []
    for i, (title, verses) in enumerate(chapters):
        held = i % HELD_OUT_EVERY == HELD_OUT_PHASE
        (heldout if held else train).append("<bos>" + document(title, verses))
        for _ in range(args.chat_per_chapter):
            s = chat_sample(rng, verses)
            if s:
                (chat_heldout if held else chat).append(s)
    for name, docs in [("train", train), ("heldout", heldout), ("chat", chat),
                       ("chat_heldout", chat_heldout)]:
        path = args.out / (name + ".txt")
        path.write_text("".join(docs))
        line = f"{name}: {len(docs)} documents, {sum(len(d.split()) for d in docs)} words"
        if args.vocab:
            ids = tokenize(args.vkllm, args.vocab, path)
            np.save(args.out / (name + ".npy"), ids)
            line += f", {len(ids)} tokens"
        print(line)


def tokenize(vkllm, vocab, path):
    with open(path, "rb") as f:
        out = subprocess.run([vkllm, "tokenize", "-m", str(vocab), "--no-bos", "--json"],
                             stdin=f, check=True, capture_output=True).stdout
    ids = np.array(json.loads(out), dtype=np.int64)
    assert ids.max() < 65536
    return ids.astype(np.uint16)


if __name__ == "__main__":
    main()
