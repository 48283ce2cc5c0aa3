#!/bin/bash
# Renders `uniad report <dir>` and takes a headless-browser screenshot of it, to look at the page as a user would.
#   experiments/scripts/screenshot-report.sh runs/demo [out.png] [width,height]
# Needs Debian's chromium (apt-get install -y chromium).
set -euo pipefail
DIR=${1:?usage: screenshot-report.sh <run or experiment folder> [out.png] [width,height]}
OUT=${2:-$DIR/report.png}
SIZE=${3:-1200,1600}
node "$(dirname "$0")/../bin/uniad.js" report "$DIR" >/dev/null
chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
  --disable-sync --hide-scrollbars --screenshot="$OUT" --window-size="$SIZE" "file://$(realpath "$DIR")/report.html" 2>/dev/null
echo "screenshot: $OUT"
