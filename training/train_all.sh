#!/usr/bin/env bash
# The three phases in a row, each resumable (rerun the same command after a stop: finished
# phases are skipped, an interrupted one continues from its last.pt). Minutes per phase
# are arguments so a run fits the time at hand; the defaults are what shipped
# models/emoji/ (see its MODEL_CARD.md).
#   training/train_all.sh [RUNS_DIR] [IMITATION_MIN] [GENERATING_MIN] [REFINEMENT_MIN]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-training/runs}
imitation=${2:-8}
generating=${3:-32}
refinement=${4:-15}
width=${WIDTH:-32}
blocks=${BLOCKS:-4}
jemalloc=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
[ -e "$jemalloc" ] && export LD_PRELOAD=$jemalloc
common=(--width "$width" --blocks "$blocks" --batch 8 --crop 64)

python3 training/train.py --phase imitation --run "$runs/imitation" --minutes "$imitation" --resume "${common[@]}"
init=()
[ -e "$runs/generating/last.pt" ] || init=(--init "$runs/imitation/last.pt")
python3 training/train.py --phase generating --run "$runs/generating" --minutes "$generating" \
    --lr-drop-minutes "$(awk -v m="$generating" 'BEGIN { print m * 0.6 }')" \
    --crop-minutes "$(awk -v m="$generating" 'BEGIN { print m * 0.6 }')" --resume "${init[@]}" "${common[@]}"
init=()
[ -e "$runs/refinement/last.pt" ] || init=(--init "$runs/generating/last.pt")
python3 training/train.py --phase refinement --run "$runs/refinement" --minutes "$refinement" --lr 1e-4 \
    --crop-minutes "$(awk -v m="$refinement" 'BEGIN { print m * 0.5 }')" \
    --generator "$runs/generating/last.pt" --resume "${init[@]}" "${common[@]}"
python3 training/export.py "$runs/generating/last.pt" models/emoji/generator.safetensors
python3 training/export.py "$runs/refinement/last.pt" models/emoji/refiner.safetensors
