#!/usr/bin/env bash
# mypy on editors, models, app/document and the CLI, against a baseline that only shrinks.
#   scripts/ci/typecheck.sh          fail on any error not in mypy-baseline.txt
#   scripts/ci/typecheck.sh --sync   rewrite the baseline (only after fixing errors)
# mypy cannot see setup.py's folder mapping, so build/typecheck/latent_atelier/ holds links
# to the repository folders under their installed names. Notes (overload candidate lists) are
# left out: their text differs between a cached and a fresh run.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${VENV:-.venv}
STAGE=build/typecheck/latent_atelier
mkdir -p "$STAGE"
for folder in app editors models resources; do
    ln -sfn "../../../$folder" "$STAGE/$folder"
done
set +e
MYPYPATH=build/typecheck "$VENV/bin/mypy" \
    -p latent_atelier.editors -p latent_atelier.models -p latent_atelier.app.document \
    -m latent_atelier.app.cli -m latent_atelier.app.cli_io -m latent_atelier.app.cli_commands \
    > build/typecheck/mypy.txt 2>&1
set -e
if [ "${1:-}" = "--sync" ]; then
    "$VENV/bin/mypy-baseline" sync --ignore-categories note --sort-baseline --baseline-path mypy-baseline.txt < build/typecheck/mypy.txt
else
    "$VENV/bin/mypy-baseline" filter --ignore-categories note --sort-baseline --no-colors --baseline-path mypy-baseline.txt < build/typecheck/mypy.txt
fi
