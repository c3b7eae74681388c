#!/usr/bin/env bash
# Removes what systemd/install.sh installed: the service, its unit and drop-in, and /opt/stackscope.
# The configuration, the stacks in /var/lib/stackscope and the user stay unless --purge says otherwise.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: sudo systemd/uninstall.sh [options]

  --purge         also delete /etc/stackscope (the configuration), /var/lib/stackscope (every
                  stack, frame and result) and the user stackscope
  --dry-run, -n   print what would be done, change nothing
  --prefix DIR    remove the files under DIR instead of / (also STACKSCOPE_ROOT=DIR); the
                  system steps (systemctl, userdel) are skipped
  -h, --help      this text

Packages (rpicam-apps, pigpio, build-essential, Node) are left installed: other programs may use them.
USAGE
}

APP_DIR=/opt/stackscope
CONFIG_DIR=/etc/stackscope
DATA_DIR=/var/lib/stackscope
UNIT_FILE=/etc/systemd/system/stackscope.service
DROPIN_DIR=/etc/systemd/system/stackscope.service.d
SERVICE_USER=stackscope

ROOT=${STACKSCOPE_ROOT:-}
PURGE=0
DRY_RUN=0

die() {
  printf 'uninstall.sh: %s\n' "$*" >&2
  exit 1
}
say() { printf '%s\n' "$*"; }

while (($#)); do
  case $1 in
  --purge) PURGE=1; shift ;;
  --dry-run | -n) DRY_RUN=1; shift ;;
  --prefix) ROOT=${2:-}; shift 2 || die "--prefix needs a folder" ;;
  --prefix=*) ROOT=${1#*=}; shift ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; die "unknown option '$1'" ;;
  esac
done
if [[ -n $ROOT ]]; then
  [[ $ROOT == /* ]] || ROOT=$PWD/$ROOT
  ROOT=${ROOT%/}
fi
if [[ -z $ROOT && $DRY_RUN == 0 && $EUID -ne 0 ]]; then
  die "run it as root (sudo $0 ...), or with --dry-run to see what it would do"
fi

quoted() {
  local arg out=()
  for arg in "$@"; do
    if [[ $arg =~ ^[][A-Za-z0-9_./:=,+@%-]+$ ]]; then out+=("$arg"); else out+=("$(printf '%q' "$arg")"); fi
  done
  printf '%s' "${out[*]}"
}

# A change to the machine itself: printed in a dry run, skipped under a prefix; failures (a service
# already gone) are reported and passed over, so a half-removed install can be finished.
system() {
  if [[ -n $ROOT ]]; then
    say "  skipped (--prefix): $(quoted "$@")"
  elif [[ $DRY_RUN == 1 ]]; then
    say "  would run: $(quoted "$@")"
  else
    "$@" || say "  ($(quoted "$@") failed: carrying on)"
  fi
}

remove() {
  local path=$ROOT$1
  [[ -e $path || -L $path ]] || return 0
  if [[ $DRY_RUN == 1 ]]; then
    say "  would remove $path"
  else
    rm -rf -- "$path"
    say "  removed $path"
  fi
}

say "==> The service"
if [[ -n $ROOT ]] || systemctl cat stackscope.service >/dev/null 2>&1; then
  system systemctl disable --now stackscope.service
fi
remove "$DROPIN_DIR"
remove "$UNIT_FILE"
system systemctl daemon-reload

say "==> The app"
remove "$APP_DIR"
remove "$APP_DIR.new"
remove "$APP_DIR.old"

if ((PURGE)); then
  say "==> Configuration, data and user (--purge)"
  remove "$CONFIG_DIR"
  remove "$DATA_DIR"
  if [[ -n $ROOT ]] || id "$SERVICE_USER" >/dev/null 2>&1; then
    system userdel "$SERVICE_USER"
  fi
else
  say "==> Kept: $CONFIG_DIR (configuration), $DATA_DIR (stacks), user $SERVICE_USER; --purge removes them"
fi
[[ $DRY_RUN == 0 ]] || say "(dry run: nothing was changed)"
