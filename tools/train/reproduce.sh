#!/usr/bin/env bash
# Reproduces the demo models of models/ (models/README.md): installs the training packages
# (Debian's python3-torch, python3-numpy, bible-kjv; needs root for apt), builds vkllm, builds the
# KJV corpus and its vocabulary subset, trains the dense model, the MoE model and the dense
# model's MTP assistant on the CPU, and packs them into models/ as q8_0 GGUFs.
#
# Every stage is resumable: run it again after an interruption and training continues from the
# last checkpoint in $VKLLM_TRAIN_DIR (default build/train). Budgets, in minutes of training on
# 2 cores: VKLLM_TRAIN_MINUTES_DENSE (25), _MOE (20), _ASSISTANT (8).
# Usage: bash tools/train/reproduce.sh [dense|moe|assistant ...]   (default: all three)
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${VKLLM_TRAIN_DIR:-build/train}
py=/usr/bin/python3   # Debian's python, where python3-torch installs
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(dense moe assistant)

if ! "$py" -c 'import torch, numpy' 2>/dev/null || ! command -v bible >/dev/null; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get install -y --no-install-recommends python3-torch python3-numpy bible-kjv
fi
bash scripts/build.sh
mkdir -p "$work/data"

# Corpus text first, then the vocabulary fitted to it, then the token ids on that vocabulary.
"$py" tools/train/corpus.py --out "$work/data"
build/vkllm vocab-subset --from build/fixtures/models/vocab-gemma4.gguf \
    --corpus "$work/data/train.txt" --corpus "$work/data/chat.txt" --size 4096 \
    -o "$work/data/vocab.gguf"
"$py" tools/train/corpus.py --out "$work/data" --vocab "$work/data/vocab.gguf"

train_target() {  # name minutes
    local out="$work/$1"
    local resume=()
    [ -f "$out/ckpt.pt" ] && resume=(--resume)
    "$py" tools/train/train.py --config "tools/train/configs/$1.json" --data "$work/data" \
        --out "$out" --minutes "$2" "${resume[@]}"
    build/vkllm pack "$out/weights" --vocab "$work/data/vocab.gguf" --quant q8_0 \
        -o "models/kjv-$1-q8_0.gguf"
}

for stage in "${stages[@]}"; do
    case "$stage" in
        dense) train_target dense "${VKLLM_TRAIN_MINUTES_DENSE:-25}" ;;
        moe) train_target moe "${VKLLM_TRAIN_MINUTES_MOE:-20}" ;;
        assistant)
            out="$work/assistant"
            resume=()
            [ -f "$out/ckpt.pt" ] && resume=(--resume)
            "$py" tools/train/train_assistant.py --target "$work/dense/weights" \
                --config tools/train/configs/assistant.json --data "$work/data" --out "$out" \
                --minutes "${VKLLM_TRAIN_MINUTES_ASSISTANT:-8}" "${resume[@]}"
            build/vkllm pack "$out/weights" --vocab "$work/data/vocab.gguf" --quant q8_0 \
                -o models/kjv-dense-assistant-q8_0.gguf
            ;;
        *) echo "reproduce.sh: unknown stage '$stage' (dense, moe, assistant)" >&2; exit 2 ;;
    esac
done
