#!/usr/bin/env bash
# Build the synthetic portrait data set (DiceBear avatars, exact alpha + part labels).
# Usage: scripts/build_portraits.sh [OUT_DIR] [SIZE] [N_TRAIN] [N_EVAL]
# Needs Node >= 18 and npm (registry access for the first `npm ci`).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-data/portraits128}
SIZE=${2:-128}
N_TRAIN=${3:-30000}
N_EVAL=${4:-500}
JS=models/training/synthetic/js
if [ ! -d "$JS/node_modules/@dicebear/core" ]; then
    npm ci --prefix "$JS" --no-audit --no-fund
fi
.venv/bin/python -m latent_atelier.models.training.synthetic build --out "$OUT" --size "$SIZE" \
    --n-train "$N_TRAIN" --n-eval "$N_EVAL"
.venv/bin/python -m latent_atelier.models.training.synthetic grid --data "$OUT" --out "$OUT/grid.png"
