#!/usr/bin/env bash
# The whole recipe in a row, each phase resumable (rerun the same command after a stop:
# finished phases are skipped, an interrupted one continues from its last.pt). Minutes per
# phase are arguments so a run fits the time at hand:
#   training/train_all.sh [RUNS_DIR] [IMITATION] [GENERATING] [RESIDUAL_GENERATING] [REFINEMENT]
#                         [FINE_TUNE_GENERATOR] [FINE_TUNE_REFINER] [WIDE_GENERATOR] [LONG_GENERATOR]
#                         [WIDE_REFINER] [COLOUR_REFINER] [SSIM_GENERATOR] [SSIM_REFINER] [JOINT]
#                         [WIDE_JOINT] [LIGHT_JOINT] [LIGHTER_JOINT]
# 1. imitation: edge + ground truth under free-form masks -> ground truth
# 2. generating: edge + colour domain -> ground truth (direct output), from imitation
# 3. generating, residual: the same network predicting a correction to the colour domain,
#    started from phase 2 with its last layer zeroed (so it starts at the baseline)
# 4. refinement, residual: edge + the generator's picture -> ground truth, started from
#    phase 3 as the identity
# 5. and 6. (wave 2) generator, then refiner, trained on training/data/train.npz as
#    dataset.py builds it now (PI-REC's ranges, flat fills, painted backgrounds): L1 alone
#    (the discriminator stayed at chance when it came in; see the model card), cosine
#    decay, EMA; state in
#    RUNS_DIR/state (training/state in the repository), so a rerun continues.
# 7. (wave 3) the generator widened from 32 to 48 channels computing the same function
#    (train.py --widen), then trained on with a new cosine; minutes count on from step 5.
#    Then the refiner 20 minutes more on the widened generator's pictures.
# 8. (wave 4) the same generator 65 minutes more, a new cosine.
# 9. (wave 5) the refiner grown to read the colour domain too (7 inputs, train.py
#    --with-color), 55 minutes more on the wave-4 generator's pictures of 1,500 pictures.
# 10. (wave 6) the generator 60 minutes more with 1 - SSIM beside L1 (--ssim 0.3); wave 5's
#    refiner stays (a refiner grown from this generator, --from-generator, did no better
#    in 38 minutes: the model card).
# 11. (wave 7) the refiner 68 minutes more with the structural term, on the wave-6
#    generator's pictures of another 1,500 training pictures (--seed 2 picks them).
# 12. (wave 8) generator and refiner together, end to end (--joint): the refiner reads the
#    generator's picture of each batch as both learn, on all the training pictures.
# 13. (wave 9) the refiner widened from 32 to 48 channels (computing the same function),
#    then both together again with the generator's own loss at half weight (--joint 0.5).
# 14. (wave 10) both together again, the generator's own loss at a quarter (--joint 0.25),
#    a lower cosine (4e-5 -> 8e-6).
# 15. (wave 11) both together again, the generator's own loss at a tenth (--joint 0.1),
#    a lower cosine still (3e-5 -> 6e-6).
# models/emoji/MODEL_CARD.md says which minutes made the shipped weights.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-training/runs}
imitation=${2:-7}
generating=${3:-80}
residual=${4:-50}
refinement=${5:-25}
tune_generator=${6:-95}
tune_refiner=${7:-22}
wide_generator=${8:-90}
long_generator=${9:-65}
wide_refiner=${10:-20}
colour_refiner=${11:-55}
ssim_generator=${12:-60}
ssim_refiner=${13:-68}
joint=${14:-100}
wide_joint=${15:-85}
light_joint=${16:-95}
lighter_joint=${17:-115}
width=${WIDTH:-32}
blocks=${BLOCKS:-4}
jemalloc=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
[ -e "$jemalloc" ] && export LD_PRELOAD=$jemalloc
common=(--width "$width" --blocks "$blocks" --batch 8 --crop 64)
part() { awk -v m="$1" -v f="$2" 'BEGIN { print m * f }'; }
init() { [ -e "$1/last.pt" ] || echo "--init $2/last.pt"; }

python3 training/train.py --phase imitation --run "$runs/imitation" --minutes "$imitation" --resume "${common[@]}"
# shellcheck disable=SC2046
python3 training/train.py --phase generating --run "$runs/generating" --minutes "$generating" \
    --lr-drop-minutes "$(part "$generating" 0.3)" --crop-minutes "$(part "$generating" 0.9)" \
    --resume $(init "$runs/generating" "$runs/imitation") "${common[@]}"
# shellcheck disable=SC2046
python3 training/train.py --phase generating --run "$runs/residual-gen" --minutes "$residual" --residual \
    --lr 1e-4 --crop-minutes "$(part "$residual" 0.7)" \
    --resume $(init "$runs/residual-gen" "$runs/generating") "${common[@]}"
# shellcheck disable=SC2046
python3 training/train.py --phase refinement --run "$runs/residual-ref" --minutes "$refinement" --residual \
    --lr 1e-4 --adv 0.005 --crop-minutes "$(part "$refinement" 0.5)" --generator "$runs/residual-gen/last.pt" \
    --resume $(init "$runs/residual-ref" "$runs/residual-gen") "${common[@]}"
state=$runs/state
[ -e "$state/generating.safetensors" ] || python3 training/export.py "$runs/residual-gen/last.pt" "$runs/wave1-generator.safetensors"
[ -e "$state/refinement.safetensors" ] || python3 training/export.py "$runs/residual-ref/last.pt" "$runs/wave1-refiner.safetensors"
python3 training/train.py --phase generating --run "$runs/tune-gen" --resume-state "$state" --residual \
    --init-safetensors "$runs/wave1-generator.safetensors" --minutes "$tune_generator" --lr 2e-4 --lr-end 2e-5 \
    --crop 64 --crop-minutes "$(part "$tune_generator" 0.875)" --gan-after-minutes "$tune_generator"
python3 training/train.py --phase refinement --run "$runs/tune-ref" --resume-state "$state" --residual \
    --init-safetensors "$runs/wave1-refiner.safetensors" --minutes "$tune_refiner" --lr 1e-4 --lr-end 2e-5 \
    --crop 64 --crop-minutes "$(part "$tune_refiner" 0.75)" --gan-after-minutes "$tune_refiner" --refine-pictures 1200
end=$(awk -v a="$tune_generator" -v b="$wide_generator" 'BEGIN { print a + b }')
python3 training/train.py --phase generating --run "$runs/wide-gen" --resume-state "$state" --widen 48 \
    --minutes "$end" --lr 2e-4 --lr-end 2e-5 --lr-from-minutes "$tune_generator" --crop 64 \
    --crop-minutes "$(awk -v e="$end" 'BEGIN { print e - 10 }')" --gan-after-minutes "$end"
ref_end=$(awk -v a="$tune_refiner" -v b="$wide_refiner" 'BEGIN { print a + b }')
python3 training/train.py --phase refinement --run "$runs/wide-ref" --resume-state "$state" \
    --minutes "$ref_end" --lr 2e-4 --lr-end 2e-5 --lr-from-minutes "$tune_refiner" --crop 64 \
    --crop-minutes "$(awk -v e="$ref_end" 'BEGIN { print e - 5 }')" --gan-after-minutes "$ref_end" --refine-pictures 600
# Wave 4: the 48-wide generator on, a new cosine from 1.2e-4, whole pictures for the last 8 minutes.
long_end=$(awk -v a="$end" -v b="$long_generator" 'BEGIN { print a + b }')
python3 training/train.py --phase generating --run "$runs/long-gen" --resume-state "$state" --width 48 \
    --minutes "$long_end" --lr 1.2e-4 --lr-end 1.5e-5 --lr-from-minutes "$end" --crop 64 \
    --crop-minutes "$(awk -v e="$long_end" 'BEGIN { print e - 8 }')" --gan-after-minutes "$long_end"
# Wave 5: the refiner reads the colour domain too; its minutes include making the
# generator's pictures (about 11 minutes here).
colour_end=$(awk -v a="$ref_end" -v b="$colour_refiner" 'BEGIN { print a + b }')
python3 training/train.py --phase refinement --run "$runs/ref7" --resume-state "$state" --residual --with-color \
    --refine-pictures 1500 --minutes "$colour_end" --lr 1.5e-4 --lr-end 1.5e-5 --lr-from-minutes "$ref_end" \
    --crop 64 --crop-minutes "$(awk -v e="$colour_end" 'BEGIN { print e - 7 }')" --gan-after-minutes "$colour_end"
# Wave 6: the generator with a structural term.
ssim_end=$(awk -v a="$long_end" -v b="$ssim_generator" 'BEGIN { print a + b }')
python3 training/train.py --phase generating --run "$runs/gen-ssim" --resume-state "$state" --width 48 --residual \
    --minutes "$ssim_end" --lr 8e-5 --lr-end 1e-5 --lr-from-minutes "$long_end" --crop 64 \
    --crop-minutes "$(awk -v e="$ssim_end" 'BEGIN { print e - 8 }')" --gan-after-minutes "$ssim_end" --ssim 0.3
# Wave 7: the refiner with the structural term, behind the wave-6 generator.
ssim_ref_end=$(awk -v a="$colour_end" -v b="$ssim_refiner" 'BEGIN { print a + b }')
python3 training/train.py --phase refinement --run "$runs/ref10" --resume-state "$state" --residual --with-color \
    --refine-pictures 1500 --seed 2 --minutes "$ssim_ref_end" --lr 1e-4 --lr-end 1e-5 --lr-from-minutes "$colour_end" \
    --crop 64 --crop-minutes "$(awk -v e="$ssim_ref_end" 'BEGIN { print e - 7 }')" --gan-after-minutes "$ssim_ref_end" \
    --ssim 0.3 --state-ema-only
# Wave 8: both networks end to end (the generator's minutes go on from its own, 310 -> 410).
joint_end=$(awk -v a="$ssim_ref_end" -v b="$joint" 'BEGIN { print a + b }')
python3 training/train.py --phase refinement --run "$runs/joint" --resume-state "$state" --joint 1 --joint-lr 0.5 \
    --residual --with-color --minutes "$joint_end" --lr 1e-4 --lr-end 1e-5 --lr-from-minutes "$ssim_ref_end" \
    --crop 64 --crop-minutes "$(awk -v e="$joint_end" 'BEGIN { print e - 7 }')" --gan-after-minutes "$joint_end" \
    --ssim 0.3 --state-ema-only
# Wave 9: the refiner widened to 48, both end to end again (the generator's minutes 410 -> 495).
wide_joint_end=$(awk -v a="$joint_end" -v b="$wide_joint" 'BEGIN { print a + b }')
python3 training/train.py --phase refinement --run "$runs/w9" --resume-state "$state" --joint 0.5 --joint-lr 0.5 \
    --widen 48 --residual --with-color --minutes "$wide_joint_end" --lr 8e-5 --lr-end 1e-5 \
    --lr-from-minutes "$joint_end" --crop 64 --crop-minutes "$(awk -v e="$wide_joint_end" 'BEGIN { print e - 6 }')" \
    --gan-after-minutes "$wide_joint_end" --ssim 0.3 --state-ema-only
# Wave 10: the generator held a quarter to its own loss, a lower cosine (its minutes 495 -> 590).
light_joint_end=$(awk -v a="$wide_joint_end" -v b="$light_joint" 'BEGIN { print a + b }')
python3 training/train.py --phase refinement --run "$runs/w10" --resume-state "$state" --joint 0.25 --joint-lr 0.5 \
    --residual --with-color --minutes "$light_joint_end" --lr 4e-5 --lr-end 8e-6 --lr-from-minutes "$wide_joint_end" \
    --crop 64 --crop-minutes "$(awk -v e="$light_joint_end" 'BEGIN { print e - 6 }')" \
    --gan-after-minutes "$light_joint_end" --ssim 0.3 --state-ema-only
# Wave 11: the generator held a tenth to its own loss, a lower cosine still (its minutes 590 -> 705).
lighter_joint_end=$(awk -v a="$light_joint_end" -v b="$lighter_joint" 'BEGIN { print a + b }')
python3 training/train.py --phase refinement --run "$runs/w11" --resume-state "$state" --joint 0.1 --joint-lr 0.5 \
    --residual --with-color --minutes "$lighter_joint_end" --lr 3e-5 --lr-end 6e-6 --lr-from-minutes "$light_joint_end" \
    --crop 64 --crop-minutes "$(awk -v e="$lighter_joint_end" 'BEGIN { print e - 6 }')" \
    --gan-after-minutes "$lighter_joint_end" --ssim 0.3 --state-ema-only
python3 training/export.py "$state/generating.safetensors" models/emoji/generator.safetensors
python3 training/export.py "$state/refinement.safetensors" models/emoji/refiner.safetensors
