#!/usr/bin/env bash
# Render a real report of a corpus case and screenshot it with the system's headless Chromium.
#
#   scripts/screenshot_report.sh [CASE] [OUTPUT_PNG]
#
# CASE defaults to coffee-mortality-causal (corpora/cases/CASE), OUTPUT_PNG to docs/report.png.
# The report is rendered offline from the case's saved PubMed record, so no network is used;
# Chromium runs with a throwaway profile and its network features off. Install the browser with
# the system package manager (Debian/Ubuntu: apt-get install chromium) if it is missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case_name="${1:-coffee-mortality-causal}"
output="${2:-$here/docs/report.png}"
case_dir="$here/corpora/cases/$case_name"
python="${PYTHON:-$here/.venv/bin/python}"
[ -x "$python" ] || python="python3"

browser="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
if [ -z "$browser" ]; then
    echo "screenshot_report: no chromium on PATH; install it (apt-get install -y chromium)" >&2
    exit 2
fi
[ -d "$case_dir" ] || { echo "screenshot_report: no such case: $case_dir" >&2; exit 2; }

work="$(mktemp -d -t factcheck-shot-XXXXXX)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$here/reports" "$(dirname "$output")"

# a private cache, so the screenshot never depends on (or changes) the user's state
FACTCHECK_CACHE="$work/cache" "$python" -m factcheck check "$case_dir/story.html" \
    --paper-file "$case_dir/pubmed.xml" --offline -o "$here/reports/sample.html" >/dev/null

"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
    --user-data-dir="$work/profile" --screenshot="$output" --window-size=1200,1800 \
    "file://$here/reports/sample.html" 2>"$work/chromium.log" || {
        tail -5 "$work/chromium.log" >&2
        exit 3
    }
echo "screenshot written to $output (report: reports/sample.html)" >&2
