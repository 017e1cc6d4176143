#!/usr/bin/env bash
# DGA model smoke evaluation (issue 4): trains on subsampled data, evaluates
# on the validation dates and leave-one-family-out on 8 families (arithmetic,
# hash, wordlist), and fails when a macro average falls below its floor.
# The floors sit a little under what the smoke run measures (see
# /work/wt/notes/dga.md); the full tables are `make eval-dga`, outside CI.
# Takes about 1 minute on an idle 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
export FLUXHUNT_SHARED="${FLUXHUNT_SHARED:-$(cd .. && pwd)/shared}"
timeout 600 go run ./detect/dga/cmd/eval \
  -min-auc 0.985 \
  -min-lofo-arith 0.70 \
  -min-lofo-wordlist 0.0
