#!/usr/bin/env bash
# Browser tests drive Debian's Chromium through Playwright (Playwright's own
# browser download cannot be reached from here). Install it when we can;
# otherwise say so: the browser tests then skip, except under CI=true, where
# tests/conftest.py turns a missing browser into a failure.
set -u
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests (~20 s)"
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
    && exit 0
  echo "could not install chromium with apt-get" >&2
else
  echo "chromium is not installed and this user cannot install it (needs root and apt-get):" >&2
  echo "browser tests will be skipped (they fail under CI=true)." >&2
fi
exit 0
