#!/usr/bin/env bash
# Builds vkllm and runs every test (GoogleTest via CTest). GPU kernel tests run on the best Vulkan
# device (lavapipe in CI) with the Khronos validation layer on; a missing device fails the run
# instead of skipping, because install-deps.sh installs lavapipe.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
export VKLLM_TEST_REQUIRE_DEVICE=1
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
