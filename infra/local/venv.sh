#!/usr/bin/env bash
# Create (or reuse) the project's Python virtual environment and print its path.
#
#   infra/local/venv.sh        -> <repo>/.venv       from infra/requirements.txt
#   infra/local/venv.sh lint   -> <repo>/.venv-lint  from infra/requirements-lint.txt
#   infra/local/venv.sh sam    -> <repo>/.venv-sam   from infra/requirements-sam.txt
#   infra/local/venv.sh bench  -> <repo>/.venv-bench from infra/requirements-bench.txt
#
# Re-installs only when the requirements file, the venv's location or the base
# Python changed (stamp file inside the venv); a changed venv is rebuilt from
# scratch so it holds exactly what the file pins. Progress goes to stderr; stdout
# carries only the venv path, so callers can do venv="$(infra/local/venv.sh)".
# Base interpreter: python3 on PATH, or $BILLWATCH_BASE_PYTHON.
set -euo pipefail

log() { printf 'venv.sh: %s\n' "$*" >&2; }
die() { printf 'venv.sh: ERROR: %s\n' "$*" >&2; exit 1; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
case "${1:-stack}" in
  stack) venv="$root/.venv";      req="$root/infra/requirements.txt" ;;
  lint)  venv="$root/.venv-lint"; req="$root/infra/requirements-lint.txt" ;;
  sam)   venv="$root/.venv-sam";  req="$root/infra/requirements-sam.txt" ;;
  bench) venv="$root/.venv-bench"; req="$root/infra/requirements-bench.txt" ;;
  *) die "unknown environment '$1' (expected: stack, lint, sam or bench)" ;;
esac
python="${BILLWATCH_BASE_PYTHON:-python3}"
stamp="$venv/.billwatch-stamp"

command -v "$python" >/dev/null 2>&1 \
  || die "'$python' not found on PATH: install Python 3 (CI uses 3.11) with pip and venv"
[[ -f $req ]] || die "requirements file missing: $req"

# Inside a venv (a shell or test under with-stack.sh has .venv/bin first on PATH), python3 is
# that venv's own: use the interpreter it was made from (the python3 of a plain shell), or the
# venv would look changed and be rebuilt by an interpreter the rebuild deletes.
base="$("$python" -c 'import os, sys
base = os.path.join(sys.base_prefix, "bin", "python3")
print(base if sys.prefix != sys.base_prefix and os.access(base, os.X_OK) else "")' 2>/dev/null)" || base=""
if [[ -n $base ]]; then python="$base"; fi

# What the stamp must say: requirements hash, venv location, base interpreter.
# Second line: a lock-file name unique to this venv.
info="$("$python" - "$req" "$venv" <<'PY'
import hashlib, sys
req, venv = sys.argv[1], sys.argv[2]
with open(req, "rb") as f:
    digest = hashlib.sha256(f.read()).hexdigest()
print(f"requirements-sha256={digest} venv={venv} python={sys.version.split()[0]}:{sys.executable}")
print(hashlib.sha256(venv.encode()).hexdigest()[:16])
PY
)" || die "'$python' failed to run"
want="${info%%$'\n'*}"
lock_id="${info##*$'\n'}"

up_to_date() {
  [[ -f $stamp && "$(cat "$stamp")" == "$want" ]] && "$venv/bin/python" -c '' 2>/dev/null
}

if up_to_date; then
  log "up to date: $venv"
  echo "$venv"
  exit 0
fi

# Serialise concurrent runs (two with-stack.sh at once) on a lock outside the venv,
# which may be deleted below. flock(2) locks belong to the open file, so the lock
# taken by the Python child stays held through fd 9 until this script exits.
lock="${TMPDIR:-/tmp}/billwatch-venv-$(id -u)-$lock_id.lock"
exec 9>>"$lock" || die "cannot open lock file $lock"
if ! "$python" -c 'import fcntl; fcntl.flock(9, fcntl.LOCK_EX | fcntl.LOCK_NB)' 2>/dev/null; then
  log "another venv.sh is preparing $venv; waiting for it"
  "$python" -c 'import fcntl; fcntl.flock(9, fcntl.LOCK_EX)' || die "could not lock $lock"
fi
if up_to_date; then   # the other run did the work
  echo "$venv"
  exit 0
fi

if [[ -e $venv ]]; then
  [[ -f $venv/pyvenv.cfg ]] || die "$venv exists but is not a Python venv; move it away and retry"
  log "requirements, location or Python changed: rebuilding $venv"
  rm -rf "$venv"
fi

log "creating $venv with $("$python" --version 2>&1)"
"$python" -m venv "$venv" \
  || die "'$python -m venv $venv' failed (Debian/Ubuntu: apt-get install python3-venv)"
echo '*' >"$venv/.gitignore"   # keeps git from listing it, wherever it lives
log "installing $req (first run takes a minute or two)"
start=$SECONDS
"$venv/bin/python" -m pip install --disable-pip-version-check --no-input -r "$req" >&2 \
  || die "pip install -r $req failed (see pip's output above); $venv has no stamp and will be rebuilt on the next run"
echo "$want" >"$stamp"
log "ready in $((SECONDS - start)) s: $venv"
echo "$venv"
