#!/usr/bin/env bash
# Installs what the end-to-end test needs, once, and caches it between runs:
#   - Debian packages: chromium (the browser), and what code-server's native modules build with;
#   - code-server (real VS Code in a browser) from npm, in a staged install that works as root on
#     Node 20 without network access beyond the registries (see docs/vscode.md, "Testing").
# Prints the code-server executable's path on its last line.
set -euo pipefail

CS_VERSION="${CODE_SERVER_VERSION:-4.100.3}"   # the newest code-server that runs on Node 20
CACHE="${WEIR_TEST_CACHE:-$HOME/.cache/weir-test}"
DEST="$CACHE/code-server-$CS_VERSION"
BIN="$DEST/node_modules/code-server/out/node/entry.js"

need=()
for pkg in chromium build-essential python3 pkg-config libkrb5-dev ripgrep; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
  echo "setup: apt-get install ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [[ ! -f "$DEST/.complete" ]]; then
  echo "setup: installing code-server $CS_VERSION into $DEST (once; about a minute)" >&2
  mkdir -p "$CACHE"
  LOG="$CACHE/setup.log"   # npm's and the native builds' output: shown only if a step fails
  : > "$LOG"
  quiet() { "$@" >>"$LOG" 2>&1 || { echo "setup: failed: $*; the end of $LOG:" >&2; tail -n 40 "$LOG" >&2; exit 1; }; }
  stage="$(mktemp -d "$CACHE/stage.XXXXXX")"   # moved into place only when complete
  trap 'rm -rf "$stage"' EXIT
  export npm_config_yes=true npm_config_unsafe_perm=true npm_config_fund=false npm_config_audit=false
  cd "$stage"
  echo '{"name":"weir-code-server","private":true}' > package.json
  # Scripts are run by hand below: code-server's own postinstall fails as root otherwise.
  quiet npm install --no-save --ignore-scripts "code-server@$CS_VERSION"
  quiet npm rebuild argon2
  vs="$stage/node_modules/code-server/lib/vscode"
  (cd "$vs" && quiet npm install --omit=dev --ignore-scripts)
  # VS Code's ripgrep package downloads a binary from GitHub unless one is already there.
  mkdir -p "$vs/node_modules/@vscode/ripgrep/bin"
  cp "$(command -v rg)" "$vs/node_modules/@vscode/ripgrep/bin/rg"
  (cd "$vs" && quiet npm rebuild --foreground-scripts)
  # postinstall.sh reads the Node version and package manager from npm's user agent.
  (cd "$stage/node_modules/code-server" &&
     npm_config_user_agent="npm/$(npm --version) node/$(node --version) linux x64" quiet sh ./postinstall.sh)
  rm -rf "$DEST"
  mv "$stage" "$DEST"
  trap - EXIT
  touch "$DEST/.complete"
fi
echo "$BIN"
