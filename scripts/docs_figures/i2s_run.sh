#!/bin/bash
# The five Image2StyleGAN++ operations from the CLI on the astronaut, with the demo model.
# usage (from the repository root): scripts/docs_figures/i2s_run.sh WORK_DIR STEPS [MODEL [OUT_DIR]]
set -euo pipefail
W="$1"; S="$2"; M="${3:-resources/models/furrygan-demo.safetensors}"; OUT="${4:-docs/images}"
P=resources/samples/astronaut.png
CLI=(.venv/bin/latent-atelier-cli --model "$M")
SIZE=$(.venv/bin/python -c "from latent_atelier.models.zoo import load_model; print(load_model('$M').resolution)")
.venv/bin/python scripts/docs_figures/i2s_inputs.py "$W" "$SIZE"
"${CLI[@]}" crossover $P --photo2 "$W/photo2.png" --mask "$W/face_mask.png" --placement "$W/placement.json" \
    --steps-init "$S" --steps-w "$S" --steps-noise "$S" --out-dir "$W/crossover"
"${CLI[@]}" inpaint $P --hole "$W/hole.png" --placement "$W/placement.json" \
    --steps-w "$S" --steps-noise "$S" --variants 3 --out-dir "$W/inpaint"
"${CLI[@]}" scribble $P --scribble "$W/scribble.png" --placement "$W/placement.json" \
    --steps-embed "$S" --steps-w "$S" --steps-noise "$S" --out-dir "$W/scribble"
"${CLI[@]}" style-transfer $P --style resources/samples/coffee.png --mask "$W/face_mask.png" \
    --placement "$W/placement.json" --steps-embed "$S" --steps-w "$S" --steps-noise "$S" --out-dir "$W/style"
"${CLI[@]}" attribute-transfer $P --photo2 "$W/photo2.png" --mask "$W/mouth.png" --placement "$W/placement.json" \
    --placement2 "$W/placement.json" --steps-w "$S" --steps-noise "$S" --out-dir "$W/attr"
.venv/bin/python scripts/docs_figures/i2s_panels.py "$W" "$OUT" "demo model, CLI, $S steps per phase"
