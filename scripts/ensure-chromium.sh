#!/usr/bin/env bash
# Install Debian's Chromium for the HTML report's browser test when we can (root + apt).
# Without it the browser test skips and says why; nothing else needs a browser.
set -u
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: chromium not found and cannot be installed here; the browser test will skip" >&2
  exit 0
fi
echo "installing chromium for the report's browser test (apt-get)..." >&2
(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
  || echo "note: chromium install failed; the browser test will skip" >&2
exit 0
