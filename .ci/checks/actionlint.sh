#!/usr/bin/env bash
# Lints .github/workflows/*.yml with actionlint (installed by scripts/install-tools.sh). With
# shellcheck on the PATH it also checks every `run:` block. Exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/../.."

actionlint="${SMART_HOME_CACHE:-$HOME/.cache/smart-home}/bin/actionlint"
if [ ! -x "$actionlint" ]; then
  echo "actionlint is not installed: run npm run setup (scripts/install-tools.sh)" >&2
  exit 1
fi
if ! command -v shellcheck >/dev/null; then
  echo "shellcheck is not on the PATH: run npm run setup (scripts/install-tools.sh)" >&2
  exit 1
fi

shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
if [ ${#workflows[@]} -eq 0 ]; then
  echo "no workflows in .github/workflows" >&2
  exit 1
fi
"$actionlint" -no-color "${workflows[@]}"
echo "actionlint $("$actionlint" -version | head -n 1): ${#workflows[@]} workflows clean, run blocks checked by $(shellcheck --version | sed -n 's/^version: /shellcheck /p')"
