#!/usr/bin/env bash
# systemd-analyze verify on deploy/systemd/*: the units must load without a
# single warning (unknown keys are only warnings to systemd, so any output
# fails). The binaries' paths are pointed at this build's, the environment
# file at an empty one, since neither exists in /usr/local or /etc here.
#   systemd_verify.sh SOURCE_DIR BIN_DIR
set -euo pipefail
src="$1" bin="$2"
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "SKIP: systemd-analyze is not installed (apt-get install systemd)"
  exit 77
fi
tmp="$(mktemp -d)"
trap 'rm -rf -- "$tmp"' EXIT
: >"$tmp/drover.env"
for unit in "$src"/deploy/systemd/*.service "$src"/deploy/systemd/*.timer; do
  sed -e "s|/usr/local/bin/|$bin/|g" -e "s|^EnvironmentFile=.*|EnvironmentFile=$tmp/drover.env|" \
    "$unit" >"$tmp/$(basename "$unit")"
done
# A template is verified through an instance of it.
mv "$tmp/drover-worker@.service" "$tmp/drover-worker@1.service"
cd "$tmp"
out="$(systemd-analyze verify ./*.service ./*.timer 2>&1)" || {
  printf '%s\n' "$out"
  echo "FAIL: systemd-analyze verify exited non-zero"
  exit 1
}
if [[ -n "$out" ]]; then
  printf '%s\n' "$out"
  echo "FAIL: systemd-analyze verify printed warnings"
  exit 1
fi
echo "OK: $(ls | grep -c -E '\.(service|timer)$') units verified"
