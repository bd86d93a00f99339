#!/usr/bin/env bash
# Imaginary Portraits: kiosk installer for a fresh Debian or Ubuntu machine.
#
# Run it as the kiosk user (the one that is logged in automatically), from the checkout:
#   install/install.sh                 check, build, write and start the systemd user units
#   install/install.sh --uninstall     stop and remove the units (keeps config and checkout)
#   install/install.sh --dry-run --home /tmp/h   print every system command, write files into /tmp/h only
#
# What it does, in order:
#   1. checks prerequisites: Node >= 20.19, npm, Chromium, systemd-notify; warns about a
#      missing GPU render node or Vulkan driver (the piece still runs, slower, on the CPU)
#   2. builds: npm ci (or npm install without a lock file), npm run build
#   3. installs the configuration ~/.config/portraits/config.json (from
#      install/portraits.example.json, never overwriting yours) and validates it
#   4. runs `portraits doctor` (stops on errors unless --force)
#   5. writes ~/.config/systemd/user/portraits.service and portraits-display.service
#   6. turns off screen blanking (xset for X11, gsettings for GNOME)
#   7. enables lingering (the units start at boot without a login), enables and
#      (re)starts the units
# Everything it needs is installed at install time; nothing is downloaded at run time.
# See docs/kiosk.md for start, stop, update, logs and troubleshooting.
set -euo pipefail

APP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
UNITS=(portraits.service portraits-display.service)
MIN_NODE=20.19

DRY_RUN=0
UNINSTALL=0
PURGE=0
BUILD=1
START=1
FORCE=0
TARGET_HOME=${HOME:-}
CONFIG=""
X_DISPLAY=":0"
WATCHDOG_SEC=30
EXTRA_FLAGS=""

usage() {
  cat <<EOF
usage: install/install.sh [options]

  --dry-run            print system commands (npm, systemctl, loginctl, xset, gsettings)
                       instead of running them; files are still written under --home
  --home DIR           with --dry-run: write into DIR instead of \$HOME
  --config FILE        use this configuration file (default ~/.config/portraits/config.json)
  --display :N         X display for Chromium (default :0)
  --watchdog-sec N     restart the server when frames stop for N seconds (default 30)
  --chromium-flags "…" extra Chromium flags for the display unit
  --no-build           skip npm ci / npm run build (already built)
  --no-start           write and enable the units but do not (re)start them
  --force              continue even when the doctor reports errors
  --uninstall          stop, disable and remove the units
  --purge              with --uninstall: also remove the configuration and Chromium profile
  -h, --help           this help
EOF
}

say() {
  if [ -t 1 ]; then printf '\033[1m==> %s\033[0m\n' "$*"; else printf '==> %s\n' "$*"; fi
}
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# Runs a command that changes the system, or only prints it in a dry run.
run() {
  if [ "$DRY_RUN" = 1 ]; then
    printf '+'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --home) TARGET_HOME=${2:?--home needs a directory}; shift ;;
    --config) CONFIG=${2:?--config needs a file}; shift ;;
    --display) X_DISPLAY=${2:?--display needs a value like :0}; shift ;;
    --watchdog-sec) WATCHDOG_SEC=${2:?--watchdog-sec needs a number}; shift ;;
    --chromium-flags) EXTRA_FLAGS=${2?--chromium-flags needs a value}; shift ;;
    --no-build) BUILD=0 ;;
    --no-start) START=0 ;;
    --force) FORCE=1 ;;
    --uninstall) UNINSTALL=1 ;;
    --purge) PURGE=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option '$1'" ;;
  esac
  shift
done

if [ "$TARGET_HOME" != "${HOME:-}" ] && [ "$DRY_RUN" = 0 ]; then
  die "--home is only for --dry-run (a real install goes into the kiosk user's own home; run it as that user)"
fi
[ -n "$TARGET_HOME" ] || die "HOME is not set"
mkdir -p "$TARGET_HOME"
TARGET_HOME=$(cd "$TARGET_HOME" && pwd)
UNIT_DIR="$TARGET_HOME/.config/systemd/user"
CONFIG=${CONFIG:-"$TARGET_HOME/.config/portraits/config.json"}
case "$CONFIG" in /*) ;; *) CONFIG="$PWD/$CONFIG" ;; esac
USER_NAME=$(id -un)
if ! [[ "$WATCHDOG_SEC" =~ ^[0-9]+$ ]] || [ "$WATCHDOG_SEC" -lt 5 ]; then
  die "--watchdog-sec must be a whole number of seconds, at least 5"
fi
[[ "$X_DISPLAY" =~ ^[A-Za-z0-9.:-]*:[0-9]+(\.[0-9]+)?$ ]] || die "--display must look like :0"

# systemd splits command lines at spaces and expands % specifiers: keep paths plain.
plain_path() {
  case "$2" in
    *[[:space:]%\\\"\']*) die "$1 '$2' contains a space, quote or %; move it to a plain path" ;;
  esac
}

if [ "$UNINSTALL" = 1 ]; then
  say "Removing the kiosk units from $UNIT_DIR"
  if [ "$DRY_RUN" = 1 ] || command -v systemctl >/dev/null; then
    run systemctl --user disable --now "${UNITS[@]}" || warn "systemctl could not stop the units (they may not be installed)"
  fi
  for unit in "${UNITS[@]}"; do
    rm -f "$UNIT_DIR/$unit"
  done
  if [ "$DRY_RUN" = 1 ] || command -v systemctl >/dev/null; then
    run systemctl --user daemon-reload || true
  fi
  if [ "$PURGE" = 1 ]; then
    say "Removing the configuration and the Chromium profile"
    rm -rf "$TARGET_HOME/.config/portraits" "$TARGET_HOME/.local/share/portraits" "$TARGET_HOME/snap/chromium/common/portraits-profile"
    run loginctl disable-linger "$USER_NAME" || warn "could not disable lingering; run: sudo loginctl disable-linger $USER_NAME"
  else
    echo "Kept: $CONFIG and lingering (use --purge to remove them too)."
  fi
  echo "The checkout $APP_DIR is untouched; delete it yourself if you no longer need it."
  exit 0
fi

say "[1/7] Checking prerequisites"
problems=()
if [ "$(id -u)" = 0 ] && [ "$DRY_RUN" = 0 ]; then
  problems+=("running as root: run the installer as the kiosk user (the one logged in on the screen), not with sudo")
fi

NODE=${PORTRAITS_NODE:-$(command -v node || true)}
if [ -z "$NODE" ]; then
  problems+=("node is not installed: install Node.js $MIN_NODE or newer (e.g. from NodeSource: https://github.com/nodesource/distributions)")
else
  node_version=$("$NODE" -p 'process.versions.node')
  lowest=$(printf '%s\n%s\n' "$MIN_NODE" "$node_version" | sort -V | head -n1)
  if [ "$lowest" != "$MIN_NODE" ]; then
    problems+=("node $node_version at $NODE is too old: install Node.js $MIN_NODE or newer")
  else
    echo "node $node_version ($NODE)"
  fi
  NODE=$(readlink -f "$NODE")
fi

if [ "$BUILD" = 1 ] && ! command -v npm >/dev/null; then
  problems+=("npm is not installed: sudo apt-get install npm (or install Node.js with npm)")
fi

CHROMIUM=${PORTRAITS_CHROMIUM:-}
if [ -z "$CHROMIUM" ]; then
  for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -x "$candidate" ]; then CHROMIUM=$candidate; break; fi
  done
fi
PROFILE_DIR="%h/.local/share/portraits/chromium"
if [ -z "$CHROMIUM" ] || [ ! -x "$CHROMIUM" ]; then
  problems+=("Chromium not found at /usr/bin/chromium or /usr/bin/chromium-browser: sudo apt-get install chromium (Debian) or chromium-browser (Ubuntu), or set PORTRAITS_CHROMIUM")
else
  # Ubuntu's chromium-browser is a snap; the snap may not write to hidden folders in $HOME.
  if [ -x /snap/bin/chromium ] && { [ "$CHROMIUM" = /usr/bin/chromium-browser ] || [[ "$(readlink -f "$CHROMIUM")" == /snap/* ]]; }; then
    CHROMIUM=/snap/bin/chromium
    PROFILE_DIR="%h/snap/chromium/common/portraits-profile"
  fi
  echo "chromium: $CHROMIUM"
fi

if ! command -v systemd-notify >/dev/null; then
  problems+=("systemd-notify is missing (package systemd): the server's watchdog needs it")
fi
if [ "$DRY_RUN" = 0 ]; then
  command -v systemctl >/dev/null || problems+=("systemctl is missing: this installer needs systemd")
  command -v loginctl >/dev/null || problems+=("loginctl is missing: this installer needs systemd-logind")
fi

# The GPU: only warnings, the piece runs on the CPU too (slower, smaller frames).
render_nodes=(/dev/dri/renderD*)
if [ ! -e "${render_nodes[0]}" ]; then
  warn "no GPU render node (/dev/dri/renderD*): generation and the display will run on the CPU; install the GPU driver"
elif [ ! -r "${render_nodes[0]}" ] || [ ! -w "${render_nodes[0]}" ]; then
  warn "$USER_NAME cannot open ${render_nodes[0]}: sudo usermod -aG render,video $USER_NAME, then log in again"
else
  echo "GPU render node: ${render_nodes[*]}"
fi
if command -v vulkaninfo >/dev/null; then
  if ! vulkaninfo --summary 2>/dev/null | grep -q 'PHYSICAL_DEVICE_TYPE_\(INTEGRATED\|DISCRETE\|VIRTUAL\)_GPU'; then
    warn "Vulkan sees no hardware GPU (vulkaninfo --summary): install mesa-vulkan-drivers or the vendor driver"
  else
    echo "Vulkan: a hardware GPU is visible"
  fi
else
  icds=$(find /usr/share/vulkan/icd.d /etc/vulkan/icd.d -name '*.json' 2>/dev/null | grep -v -e lvp -e lavapipe || true)
  if [ -z "$icds" ]; then
    warn "no hardware Vulkan driver in /usr/share/vulkan/icd.d: sudo apt-get install mesa-vulkan-drivers (or the vendor driver)"
  else
    echo "Vulkan drivers: $(echo "$icds" | xargs -n1 basename | tr '\n' ' ')"
  fi
fi

if [ ${#problems[@]} -gt 0 ]; then
  printf 'error: %s\n' "${problems[@]}" >&2
  die "fix the problems above, then run install/install.sh again"
fi
plain_path "the checkout" "$APP_DIR"
plain_path "node" "$NODE"
plain_path "chromium" "$CHROMIUM"
plain_path "the config file" "$CONFIG"

say "[2/7] Building in $APP_DIR"
if [ "$BUILD" = 1 ]; then
  if [ -f "$APP_DIR/package-lock.json" ]; then
    run npm --prefix "$APP_DIR" ci --no-audit --no-fund
  else
    run npm --prefix "$APP_DIR" install --no-audit --no-fund
  fi
  run npm --prefix "$APP_DIR" run build
else
  echo "skipped (--no-build)"
fi

say "[3/7] Configuration: $CONFIG"
if [ ! -e "$CONFIG" ]; then
  mkdir -p "$(dirname "$CONFIG")"
  cp "$APP_DIR/install/portraits.example.json" "$CONFIG"
  echo "created from install/portraits.example.json; edit it, then run the installer again"
else
  echo "kept the existing file"
fi
if [ -d "$APP_DIR/node_modules/tsx" ]; then
  if ! URL=$(cd "$APP_DIR" && PORTRAITS_CONFIG="$CONFIG" "$NODE" --import tsx install/check-config.ts); then
    die "the configuration $CONFIG is invalid (see above); fix it and run the installer again"
  fi
  echo "valid; the display opens $URL/"
elif [ "$DRY_RUN" = 1 ]; then
  URL=http://127.0.0.1:8080
  warn "dependencies are not installed yet, so the configuration is not checked in this dry run; assuming $URL"
else
  die "node_modules/tsx is missing after the build; run npm ci in $APP_DIR"
fi

say "[4/7] Checking the installation (portraits doctor)"
if [ "$DRY_RUN" = 1 ]; then
  run "$NODE" "$APP_DIR/bin/portraits.js" doctor --config "$CONFIG"
elif ! (cd "$APP_DIR" && "$NODE" bin/portraits.js doctor --config "$CONFIG"); then
  if [ "$FORCE" = 1 ]; then
    warn "the doctor reported errors; continuing because of --force"
  else
    die "the doctor reported errors (above); fix them, or run again with --force"
  fi
fi

say "[5/7] Writing systemd user units to $UNIT_DIR"
mkdir -p "$UNIT_DIR"
# A value for sed's replacement text: escape \, & and the | delimiter.
sed_value() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }
if command -v xset >/dev/null; then
  BLANKING="ExecStartPre=-$(command -v xset) s off -dpms s noblank"
else
  BLANKING="# xset is not installed (package x11-xserver-utils), so X11 screen blanking is not turned off here"
fi
render() {
  sed -e "s|@APP_DIR@|$(sed_value "$APP_DIR")|g" \
    -e "s|@NODE@|$(sed_value "$NODE")|g" \
    -e "s|@CONFIG@|$(sed_value "$CONFIG")|g" \
    -e "s|@WATCHDOG_SEC@|$(sed_value "$WATCHDOG_SEC")|g" \
    -e "s|@URL@|$(sed_value "$URL")|g" \
    -e "s|@X_DISPLAY@|$(sed_value "$X_DISPLAY")|g" \
    -e "s|@CHROMIUM@|$(sed_value "$CHROMIUM")|g" \
    -e "s|@PROFILE_DIR@|$(sed_value "$PROFILE_DIR")|g" \
    -e "s|@BLANKING@|$(sed_value "$BLANKING")|g" \
    -e "s|@EXTRA_FLAGS@|$(sed_value "$EXTRA_FLAGS")|g" \
    "$1"
}
for unit in "${UNITS[@]}"; do
  render "$APP_DIR/install/$unit.in" >"$UNIT_DIR/$unit.tmp"
  if grep -n '@[A-Z_]*@' "$UNIT_DIR/$unit.tmp"; then
    rm -f "$UNIT_DIR/$unit.tmp"
    die "a placeholder in install/$unit.in was not filled in (above)"
  fi
  mv "$UNIT_DIR/$unit.tmp" "$UNIT_DIR/$unit"
  echo "wrote $UNIT_DIR/$unit"
done

say "[6/7] Turning off screen blanking"
if command -v xset >/dev/null && [ -n "${DISPLAY:-}" ]; then
  run xset s off -dpms s noblank || warn "xset failed for DISPLAY=$DISPLAY (the display unit repeats it at every start)"
fi
if command -v gsettings >/dev/null && [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  run gsettings set org.gnome.desktop.session idle-delay 0 || warn "gsettings: could not set idle-delay"
  run gsettings set org.gnome.desktop.screensaver lock-enabled false || warn "gsettings: could not turn off the lock screen"
  run gsettings set org.gnome.settings-daemon.plugins.power sleep-inactive-ac-type nothing || warn "gsettings: could not turn off suspend"
  run gsettings set org.gnome.settings-daemon.plugins.power idle-dim false || warn "gsettings: could not turn off dimming"
else
  echo "no desktop session here: for GNOME run docs/kiosk.md's gsettings lines once in the kiosk session"
fi
echo "X11: the display unit runs 'xset s off -dpms s noblank' at every start; Wayland: see docs/kiosk.md"

say "[7/7] Enabling the units"
run loginctl enable-linger "$USER_NAME" || warn "could not enable lingering; run: sudo loginctl enable-linger $USER_NAME"
run systemctl --user daemon-reload
run systemctl --user enable "${UNITS[@]}"
if [ "$START" = 1 ]; then
  run systemctl --user restart "${UNITS[@]}"
fi

if [ "$DRY_RUN" = 1 ]; then
  printf '\nDry run: no system command was run; the files above were written under %s.\n' "$TARGET_HOME"
  exit 0
fi
cat <<EOF

Imaginary Portraits is installed.
  status:  systemctl --user status portraits portraits-display
  logs:    journalctl --user -u portraits -f
  check:   npx portraits doctor --config $CONFIG
  health:  $URL/health
  remove:  install/install.sh --uninstall
EOF
