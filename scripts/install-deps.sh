#!/usr/bin/env bash
# Installs everything vkllm needs to build and test on Debian 12. Idempotent: re-running it only
# installs what is missing. Must run as root (CI does); otherwise it re-runs itself under sudo.
set -euo pipefail
packages=(
    build-essential cmake ninja-build pkg-config git
    libvulkan-dev glslc spirv-headers spirv-tools libshaderc-dev
    nlohmann-json3-dev libasio-dev libcli11-dev googletest libgtest-dev libgmock-dev
    mesa-vulkan-drivers vulkan-validationlayers vulkan-tools
    clang-format python3
)
if [ "$(id -u)" != 0 ]; then
    exec sudo "$0" "$@"
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm run the server's end-to-end tests (tests/server/e2e). Only when the commands
# are absent: a machine with another Node.js build (which bundles npm) must not get Debian's npm.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "install-deps: all ${#packages[@]} packages present"
