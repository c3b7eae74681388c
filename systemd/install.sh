#!/usr/bin/env bash
# Installs stackscope as a systemd service on Raspberry Pi OS (Bookworm or Trixie, arm64; Pi Zero 2 W
# to Pi 5): packages, user, the app in /opt/stackscope, a config from a hardware preset, the unit.
# Idempotent: run it again (after a git pull) to update; an existing config is never overwritten.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: sudo systemd/install.sh --preset NAME [options]

  --preset NAME   the hardware you wired (hardware/presets/): a4988, drv8825, tmc2209,
                  uln2003-28byj48; or simulated (no hardware: the simulated microscope).
                  Needed only when /etc/stackscope/config.json does not exist yet.
  --pigpio        drive the stepper with pigpio (DMA-timed pulses; Pi 0-4, Bookworm): installs
                  the pigpio package and the drop-in that runs the service as root.
                  Without it the service runs unprivileged with onoff (the default).
  --port N        HTTP port written into a new config [8080]
  --no-token      write a new config without a bearer token (anyone on the network may then
                  move the stage and start stacks)
  --dry-run, -n   print what would be done, change nothing
  --prefix DIR    install the files under DIR instead of / (also STACKSCOPE_ROOT=DIR); the
                  system steps (apt, user, npm, systemctl) are skipped: for tests and images
  -h, --help      this text
EOF
}

APP_DIR=/opt/stackscope
CONFIG_DIR=/etc/stackscope
CONFIG_FILE=$CONFIG_DIR/config.json
DATA_DIR=/var/lib/stackscope
UNIT_FILE=/etc/systemd/system/stackscope.service
DROPIN_FILE=/etc/systemd/system/stackscope.service.d/pigpio.conf
SERVICE_USER=stackscope
NODE_MIN=20.19
PRESETS="a4988 drv8825 tmc2209 uln2003-28byj48 simulated"

ROOT=${STACKSCOPE_ROOT:-}
PRESET=""
PIGPIO=0
PORT=8080
TOKEN=1
DRY_RUN=0

die() {
  printf 'install.sh: %s\n' "$*" >&2
  exit 1
}
say() { printf '%s\n' "$*"; }
step() { printf '\n==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }

while (($#)); do
  case $1 in
  --preset) PRESET=${2:-}; shift 2 || die "--preset needs a name: $PRESETS" ;;
  --preset=*) PRESET=${1#*=}; shift ;;
  --pigpio) PIGPIO=1; shift ;;
  --port) PORT=${2:-}; shift 2 || die "--port needs a number" ;;
  --port=*) PORT=${1#*=}; shift ;;
  --no-token) TOKEN=0; shift ;;
  --dry-run | -n) DRY_RUN=1; shift ;;
  --prefix) ROOT=${2:-}; shift 2 || die "--prefix needs a folder" ;;
  --prefix=*) ROOT=${1#*=}; shift ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; die "unknown option '$1'" ;;
  esac
done

if [[ -n $PRESET && " $PRESETS " != *" $PRESET "* ]]; then
  die "--preset: expected one of $PRESETS, got '$PRESET'"
fi
if ! [[ $PORT =~ ^[0-9]+$ ]] || ((PORT < 1 || PORT > 65535)); then
  die "--port: expected 1-65535, got '$PORT'"
fi
if [[ -n $ROOT ]]; then
  if [[ $DRY_RUN == 0 ]]; then mkdir -p "$ROOT" || die "--prefix: cannot create '$ROOT'"; fi
  [[ $ROOT == /* ]] || ROOT=$PWD/$ROOT
  ROOT=${ROOT%/}
fi
if [[ -z $ROOT && $DRY_RUN == 0 && $EUID -ne 0 ]]; then
  die "run it as root (sudo $0 ...), or with --dry-run to see what it would do"
fi

SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# --- Doing, or saying what would be done ---

# The command as one could type it: arguments quoted only when they need it.
quoted() {
  local arg out=()
  for arg in "$@"; do
    if [[ $arg =~ ^[][A-Za-z0-9_./:=,+@%-]+$ ]]; then out+=("$arg"); else out+=("$(printf '%q' "$arg")"); fi
  done
  printf '%s' "${out[*]}"
}

# Runs a command, or prints it in a dry run.
run() {
  if [[ $DRY_RUN == 1 ]]; then
    say "  would run: $(quoted "$@")"
  else
    "$@"
  fi
}

# Runs a command in a folder, or prints it in a dry run.
run_in() {
  local dir=$1
  shift
  if [[ $DRY_RUN == 1 ]]; then
    say "  would run in $dir: $(quoted "$@")"
  else
    (cd "$dir" && "$@")
  fi
}

# A change to the machine itself (packages, users, services): skipped under a prefix, which only
# receives files.
system() {
  if [[ -n $ROOT ]]; then
    say "  skipped (--prefix): $(quoted "$@")"
  else
    run "$@"
  fi
}

# Writes stdin to ROOT+path with a mode, replacing the file whole (temporary file, then rename).
write_file() {
  local path=$ROOT$1 mode=$2 show=${3:-}
  local content
  content=$(cat)
  if [[ $DRY_RUN == 1 ]]; then
    say "  would write $path (mode $mode)"
    if [[ $show == show ]]; then
      say "----- $path"
      say "$content"
      say "-----"
    fi
    return
  fi
  mkdir -p "$(dirname "$path")"
  local tmp
  tmp=$(mktemp "$path.XXXXXX")
  printf '%s\n' "$content" >"$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$path"
  say "  wrote $path"
}

remove() {
  local path=$ROOT$1
  [[ -e $path ]] || return 0
  if [[ $DRY_RUN == 1 ]]; then
    say "  would remove $path"
  else
    rm -rf -- "$path"
    say "  removed $path"
  fi
}

# --- Checks ---

step "Checking the system"
OS_RELEASE=$ROOT/etc/os-release
MODEL_FILE=$ROOT/proc/device-tree/model
# shellcheck source=/dev/null
CODENAME=$( (. "$OS_RELEASE" 2>/dev/null && printf '%s' "${VERSION_CODENAME:-}") || true)
MODEL=$(tr -d '\0' 2>/dev/null <"$MODEL_FILE" || true)
ARCH=$(dpkg --print-architecture 2>/dev/null || uname -m)

case $CODENAME in
bookworm | trixie) say "  Debian $CODENAME" ;;
*) warn "written for Raspberry Pi OS Bookworm or Trixie; this is '${CODENAME:-unknown}': carrying on" ;;
esac
[[ $ARCH == arm64 || $ARCH == aarch64 ]] || warn "written for arm64; this is $ARCH: carrying on"
if [[ $MODEL == "Raspberry Pi"* ]]; then
  say "  $MODEL"
elif [[ $PRESET != simulated && -n $PRESET ]]; then
  warn "no Raspberry Pi found: the '$PRESET' preset asks for the Pi rig, so the service will stop with GPIO_UNAVAILABLE here (use --preset simulated to try it without hardware)"
fi

if ((PIGPIO)); then
  [[ $MODEL == "Raspberry Pi 5"* || $MODEL == *"Compute Module 5"* ]] &&
    die "--pigpio: pigpio does not support the Pi 5 (its RP1 chip): leave --pigpio out, onoff drives it"
  [[ $CODENAME == bookworm || -z $CODENAME ]] ||
    die "--pigpio: the pigpio package exists for Bookworm, not for $CODENAME: leave --pigpio out"
  [[ $PRESET != uln2003-28byj48 ]] ||
    warn "--pigpio: a ULN2003 stage is driven by onoff whatever the backend; pigpio would only add root"
fi

NODE_BIN=$(command -v node || true)
NODE_HINT="install Node 22 from NodeSource:
  curl -fsSL https://deb.nodesource.com/setup_22.x -o /tmp/nodesource_setup.sh
  sudo bash /tmp/nodesource_setup.sh && sudo apt-get install -y nodejs
(Debian's own nodejs package is too old.)"
[[ -n $NODE_BIN ]] || die "Node.js is not installed: $NODE_HINT"
NODE_BIN=$(readlink -f "$NODE_BIN")
# Prints the version; fails when it is older than NODE_MIN.
if ! NODE_VERSION=$("$NODE_BIN" -e '
  const have = process.versions.node.split(".").map(Number);
  const need = process.argv[1].split(".").map(Number);
  process.stdout.write(process.versions.node);
  process.exitCode = have[0] > need[0] || (have[0] === need[0] && have[1] >= need[1]) ? 0 : 1;
' "$NODE_MIN"); then
  die "Node ${NODE_VERSION:-(did not run)} is too old (stackscope needs >= $NODE_MIN): $NODE_HINT"
fi
say "  Node $NODE_VERSION ($NODE_BIN)"
case $NODE_BIN in
/home/* | /root/*) die "Node is installed in a home folder ($NODE_BIN, nvm?), which the service cannot see (ProtectHome): $NODE_HINT" ;;
esac

# --- Packages ---

step "Installing packages"
packages=(build-essential python3) # onoff's and pigpio's native addons are compiled by npm ci
if command -v rpicam-still >/dev/null || command -v libcamera-still >/dev/null; then
  say "  camera program present ($(command -v rpicam-still || command -v libcamera-still))"
else
  packages+=(rpicam-apps)
fi
((PIGPIO)) && packages+=(pigpio)
system apt-get update
system apt-get install -y --no-install-recommends "${packages[@]}"
if ((PIGPIO)); then
  # pigpio allows one user of the hardware at a time: its own daemon must not run beside stackscope.
  if [[ -z $ROOT ]] && systemctl cat pigpiod.service >/dev/null 2>&1; then
    system systemctl disable --now pigpiod.service
  fi
fi

# --- User ---

step "Service user '$SERVICE_USER' (groups gpio, video)"
for group in gpio video; do
  getent group "$group" >/dev/null || system groupadd --system "$group"
done
if ! id "$SERVICE_USER" >/dev/null 2>&1; then
  system useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home \
    --shell /usr/sbin/nologin "$SERVICE_USER"
fi
system usermod --append --groups gpio,video "$SERVICE_USER"

# --- The app ---

step "The app in $ROOT$APP_DIR"
target=$ROOT$APP_DIR
build_dir=$target
if [[ $(readlink -f "$SOURCE_DIR") == $(readlink -f "$target" 2>/dev/null || printf '%s' "$target") ]]; then
  say "  using the checkout in place"
else
  # Built beside the running copy and swapped in at the end: a failed build leaves the old one working.
  build_dir=$target.new
  remove "$APP_DIR.new"
  if [[ $DRY_RUN == 1 ]]; then
    say "  would copy $SOURCE_DIR to $build_dir (without node_modules, dist, .git)"
  else
    mkdir -p "$build_dir"
    tar -C "$SOURCE_DIR" --exclude=./node_modules --exclude=./dist --exclude=./.git --exclude=./.cache \
      --exclude=./.scratch --exclude=./coverage --exclude=./test-output -cf - . | tar -C "$build_dir" --no-same-owner -xf -
    say "  copied $SOURCE_DIR to $build_dir"
  fi
fi
if [[ -n $ROOT ]]; then
  say "  skipped (--prefix): npm ci, build"
else
  # npm ci builds too (the prepare script); dev dependencies go afterwards, to save the SD card.
  run_in "$build_dir" npm ci --no-audit --no-fund
  if [[ $DRY_RUN == 1 || ! -f $build_dir/dist/src/cli.js ]]; then run_in "$build_dir" npm run build; fi
  run_in "$build_dir" npm prune --omit=dev --no-audit --no-fund
fi
if [[ $build_dir != "$target" ]]; then
  if [[ $DRY_RUN == 1 ]]; then
    say "  would replace $target with $build_dir"
  else
    # The running daemon still loads modules (workers, the GPIO layer) from there: stop it first.
    if [[ -z $ROOT ]] && systemctl is-active --quiet stackscope.service; then
      systemctl stop stackscope.service
    fi
    rm -rf -- "$target.old"
    if [[ -e $target ]]; then mv -- "$target" "$target.old"; fi
    mv -- "$build_dir" "$target"
    rm -rf -- "$target.old"
    say "  installed $target"
  fi
fi

# --- Configuration ---

step "Configuration $ROOT$CONFIG_FILE"
if [[ -e $ROOT$CONFIG_FILE ]]; then
  say "  keeping the existing $ROOT$CONFIG_FILE${PRESET:+ (--preset $PRESET not applied)}"
  say "  (to start again from a preset: remove it and run install.sh again)"
else
  [[ -n $PRESET ]] || die "no configuration yet: say which hardware you wired with --preset ($PRESETS)"
  preset_file=$SOURCE_DIR/hardware/presets/$PRESET.json
  [[ $PRESET == simulated || -f $preset_file ]] || die "no preset file $preset_file"
  config=$("$NODE_BIN" - "$PRESET" "$preset_file" "$DATA_DIR" "$PORT" "$TOKEN" <<'JS'
const { readFileSync } = require('node:fs');
const { randomBytes } = require('node:crypto');
const [preset, file, dataDir, port, token] = process.argv.slice(2);
const rig = preset === 'simulated' ? { type: 'simulated' } : JSON.parse(readFileSync(file, 'utf8'));
const server = { port: Number(port) };
// Mutating requests from the network then need `Authorization: Bearer <token>`.
if (token === '1') server.token = randomBytes(16).toString('hex');
process.stdout.write(JSON.stringify({ dataDir, server, rig }, null, 2));
JS
  )
  write_file "$CONFIG_FILE" 0640 show <<<"$config"
  run chmod 0750 "$ROOT$CONFIG_DIR"
  # The token is a secret: readable by root and the service only.
  system chown root:"$SERVICE_USER" "$CONFIG_DIR" "$CONFIG_FILE"
fi

# --- The unit ---

step "systemd unit $ROOT$UNIT_FILE"
unit=$(<"$SOURCE_DIR/systemd/stackscope.service")
if [[ $NODE_BIN != /usr/bin/node ]]; then
  unit=${unit//ExecStart=\/usr\/bin\/node /ExecStart=$NODE_BIN }
  say "  node is $NODE_BIN: ExecStart adjusted"
fi
write_file "$UNIT_FILE" 0644 <<<"$unit"
if ((PIGPIO)); then
  write_file "$DROPIN_FILE" 0644 <"$SOURCE_DIR/systemd/stackscope-pigpio.conf"
  say "  pigpio drop-in: the service runs as root (see the file for the trade-off)"
elif [[ -e $ROOT$DROPIN_FILE ]]; then
  say "  the pigpio drop-in goes (run with --pigpio to keep it): the service runs unprivileged with onoff"
  remove "$DROPIN_FILE"
  [[ $DRY_RUN == 1 ]] || rmdir --ignore-fail-on-non-empty "$(dirname "$ROOT$DROPIN_FILE")"
fi
system systemctl daemon-reload
system systemctl enable stackscope.service
if [[ -z $ROOT && $DRY_RUN == 0 ]]; then
  # Type=notify: restart returns once the daemon has said it listens, or fails.
  if ! systemctl restart stackscope.service; then
    systemctl status --no-pager --lines=0 stackscope.service || true
    die "the service did not start; its log: journalctl -u stackscope -n 50 -o cat"
  fi
else
  system systemctl restart stackscope.service
fi

# --- Where to find it ---

port=$PORT
if [[ -z ${config:-} && -r $ROOT$CONFIG_FILE ]]; then
  # The only "port" key of the configuration is server.port; absent, the default.
  port=$(sed -n 's/.*"port"[[:space:]]*:[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$ROOT$CONFIG_FILE" | head -n 1)
  port=${port:-8080}
fi
address=$(hostname -I 2>/dev/null | awk '{ print $1 }' || true)
step "Done"
if [[ $DRY_RUN == 1 ]]; then
  say "  (dry run: nothing was changed)"
fi
say "  stackscope:  http://${address:-$(hostname)}:$port/   (also http://$(hostname).local:$port/)"
say "  API and its documentation: http://${address:-$(hostname)}:$port/docs"
say "  status: systemctl status stackscope    log: journalctl -u stackscope -o cat -f"
say "  configuration: $CONFIG_FILE (the bearer token is server.token; after a change: sudo systemctl restart stackscope)"
