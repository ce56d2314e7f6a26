#!/usr/bin/env bash
# Makes sure the real browser the HTML report and dashboard tests drive is here: Debian's
# chromium and its chromedriver (/usr/bin/chromium, /usr/bin/chromedriver). Installs them
# with apt-get when absent; a browser that cannot be installed fails the run (the tests
# would fail on it anyway, never skip).
set -euo pipefail

if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
    echo "installing chromium and chromium-driver (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium chromium-driver >/dev/null
fi
/usr/bin/chromium --version
/usr/bin/chromedriver --version
