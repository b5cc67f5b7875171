#!/usr/bin/env bash
# Install Debian's redis-server for the remote-cache tests when we can (root + apt). The
# tests start their own private server on a free port and stop it (never the system
# service); without the binary they skip and say why.
set -u
if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: redis-server not found and cannot be installed here; the remote-cache tests will skip" >&2
  exit 0
fi
echo "installing redis-server for the remote-cache tests (apt-get)..." >&2
(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  redis-server >/dev/null) \
  || echo "note: redis-server install failed; the remote-cache tests will skip" >&2
# the package may start its system service: the tests do not use it
if command -v systemctl >/dev/null 2>&1; then systemctl stop redis-server >/dev/null 2>&1 || true; fi
exit 0
