#!/usr/bin/env bash
# The main job: builds vkllm and serves the default model over the OpenAI-compatible HTTP API
# (http://127.0.0.1:8080/v1, see README) on the best Vulkan device, until Ctrl-C.
# The default model is the project's trained demo model, a small Gemma 4 dense model trained on
# the King James Bible (models/README.md); point VKLLM_MODEL at a real Gemma 4 GGUF to serve it.
# Extra arguments go to `vkllm serve` (e.g. --port 9000 --parallel 4).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
model="${VKLLM_MODEL:-models/kjv-dense-q8_0.gguf}"
./build/vkllm devices
exec ./build/vkllm serve -m "$model" "$@"
