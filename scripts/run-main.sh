#!/usr/bin/env bash
# The main job. Until the model runtime lands (issue 3) this builds vkllm and prints the device
# report: every Vulkan device, what it supports and whether vkllm can use it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
./build/vkllm devices
