#!/usr/bin/env bash
# The main job: builds vkllm and chats with the default model on the best Vulkan device.
# The default model is the tiny random-weight Gemma 4 fixture (the project ships no trained
# weights); point VKLLM_MODEL at a real Gemma 4 GGUF to chat with it. Without a terminal on stdin
# it answers one fixed prompt instead, so the command also works in scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
model="${VKLLM_MODEL:-tests/fixtures/models/tiny-dense-q8_0.gguf}"
./build/vkllm devices
if [ -t 0 ]; then
    exec ./build/vkllm chat -m "$model" "$@"
fi
exec ./build/vkllm run -m "$model" --chat -p "Write a haiku about GPUs." -n 64 "$@"
