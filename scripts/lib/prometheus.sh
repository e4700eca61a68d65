# shellcheck shell=bash
# Debian's prometheus package (promtool and the server), for the checks that need them:
#   source scripts/lib/prometheus.sh; prometheus_install
# The package enables a systemd unit and its maintainer scripts may try to start it: a
# policy-rc.d answering 101 forbids that for the install, and no prometheus process may
# outlive it.
prometheus_install() {
  if command -v promtool >/dev/null && command -v prometheus >/dev/null; then
    return 0
  fi
  printf '\033[1m[prometheus]\033[0m %s\n' "installing Debian's prometheus package"
  local sudo="" policy_added=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    policy_added=1
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  [ -z "$policy_added" ] || $sudo rm -f /usr/sbin/policy-rc.d
  if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
    $sudo systemctl disable --now prometheus || true
  fi
}
