#!/usr/bin/env bash
# Issue #29 item 4: the laplace field's image temperatures, default (0.02 0.05 0.2) against sets 2.5x wider
# (0.05 0.2 0.5) and 2.5x narrower (0.008 0.02 0.08), as laplace-variants.sh runs them (300 steps at the README's CPU
# size, seeds 0 and 1, three feature spaces). About 7 minutes a set on 2 CPU cores. Results: docs/quality.md.
# STUDY_DIR: where the runs go (new folders); SETS: the temperature sets, separated by commas (default: all three).
set -euo pipefail
IFS=, read -r -a sets <<<"${SETS:-0.02 0.05 0.2,0.05 0.2 0.5,0.008 0.02 0.08}"
variants=()
for temps in "${sets[@]}"; do variants+=("tau-${temps// /-}=--temperature $temps"); done
VARIANTS=$(IFS=,; echo "${variants[*]}") STUDY_DIR=${STUDY_DIR:-runs/laplace-temperatures} exec bash "$(dirname "$0")/laplace-variants.sh"
