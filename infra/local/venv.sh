#!/usr/bin/env bash
# Create (or reuse) the project's Python virtual environment and print its path.
#
#   infra/local/venv.sh        -> <repo>/.venv       from infra/requirements.txt
#   infra/local/venv.sh lint   -> <repo>/.venv-lint  from infra/requirements-lint.txt
#   infra/local/venv.sh sam    -> <repo>/.venv-sam   from infra/requirements-sam.txt
#   infra/local/venv.sh bench  -> <repo>/.venv-bench from infra/requirements-bench.txt
#   infra/local/venv.sh uv     -> <repo>/.venv-uv    from infra/requirements-uv.txt
#
# The installer is uv (pinned in infra/requirements-uv.txt, itself installed with pip into
# .venv-uv on first use): one resolver run, parallel downloads, seconds instead of minutes. If
# uv cannot be had, or fails, venv.sh says so on stderr and installs with pip instead (the same
# pins; BILLWATCH_VENV_INSTALLER=pip forces that). Venvs made by uv have no pip in them: add a
# pin to the requirements file instead of `pip install`. Several venv.sh may run at once (CI
# makes its three venvs concurrently): each venv has its own lock.
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
  uv)    venv="$root/.venv-uv";    req="$root/infra/requirements-uv.txt" ;;
  *) die "unknown environment '$1' (expected: stack, lint, sam, bench or uv)" ;;
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

# The installer: uv from .venv-uv (made here with pip, under its own lock), else pip, loudly.
uv=""
installer="${BILLWATCH_VENV_INSTALLER:-uv}"
if [[ ${1:-stack} != uv && $installer == uv ]]; then
  if uv_venv="$(BILLWATCH_BASE_PYTHON="$python" "$root/infra/local/venv.sh" uv)" && [[ -x $uv_venv/bin/uv ]]; then
    uv="$uv_venv/bin/uv"
  else
    log "WARNING: could not install uv (infra/requirements-uv.txt, see above): falling back to pip, which is much slower"
  fi
fi

pip_install() {
  "$python" -m venv "$venv" \
    || die "'$python -m venv $venv' failed (Debian/Ubuntu: apt-get install python3-venv)"
  echo '*' >"$venv/.gitignore"   # keeps git from listing it, wherever it lives
  log "installing $req with pip (first run takes a minute or two)"
  "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -r "$req" >&2
}

uv_install() {
  "$python" -m venv --without-pip "$venv" \
    || die "'$python -m venv $venv' failed (Debian/Ubuntu: apt-get install python3-venv)"
  echo '*' >"$venv/.gitignore"
  log "installing $req with $("$uv" --version 2>/dev/null || echo uv)"
  # PIP_CERT (a CA bundle pip was told to trust) is uv's --cert too, unless SSL_CERT_FILE is set.
  if [[ -z ${SSL_CERT_FILE:-} && -n ${PIP_CERT:-} ]]; then export SSL_CERT_FILE="$PIP_CERT"; fi
  "$uv" pip install --quiet --python "$venv/bin/python" -r "$req" >&2
}

log "creating $venv with $("$python" --version 2>&1)"
start=$SECONDS
if [[ -n $uv ]]; then
  if ! uv_install; then
    log "WARNING: uv failed to install $req (see above): retrying with pip, which is much slower"
    rm -rf "$venv"
    uv=""
  fi
fi
if [[ -z $uv ]]; then
  pip_install \
    || die "pip install -r $req failed (see pip's output above); $venv has no stamp and will be rebuilt on the next run"
fi
echo "$want" >"$stamp"
log "ready in $((SECONDS - start)) s: $venv"
echo "$venv"
