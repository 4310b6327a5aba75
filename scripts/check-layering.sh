#!/usr/bin/env bash
# Fails when a Vulkan-free library includes a header from a layer above it (issue #11): the
# loader, the quantizers, the CPU reference and synth build in that order without the runtime,
# so the unit tests link none of it. The link side is checked by the layering_*_without_vulkan
# tests; this checks the sources, where a wrong include shows before anything links.
set -euo pipefail
cd "$(dirname "$0")/.."
# directory: the project directories its sources may include from
rules=(
    "loader:loader"
    "quant:loader quant"
    "reference:loader reference"
    "synth:loader quant synth"
)
status=0
for rule in "${rules[@]}"; do
    dir=${rule%%:*}
    allowed=${rule#*:}
    while IFS= read -r hit; do
        echo "check-layering: $hit: $dir/ may include only from: $allowed" >&2
        status=1
    done < <(grep -nE '^#include "' "$dir"/*.h "$dir"/*.cpp |
        grep -vE "#include \"(${allowed// /|})/" || true)
done
[ "$status" = 0 ] && echo "check-layering: ${#rules[@]} layers include only from below"
exit "$status"
