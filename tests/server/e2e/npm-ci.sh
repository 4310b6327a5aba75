#!/usr/bin/env bash
# Installs the e2e suites' npm dependencies exactly as package-lock.json pins them (npm ci).
# Skipped when node_modules already holds the locked openai version, so repeated test runs work
# without the registry; --prefer-offline uses npm's cache when it has the packages.
set -euo pipefail
cd "$(dirname "$0")"
locked=$(node -p 'require("./package-lock.json").packages["node_modules/openai"].version')
installed=$(node -p 'try { require("./node_modules/openai/package.json").version } catch { "" }')
if [ "$locked" = "$installed" ]; then
    echo "npm-ci: openai $installed already installed"
    exit 0
fi
npm ci --no-audit --no-fund --prefer-offline
