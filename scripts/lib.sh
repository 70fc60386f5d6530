# Shell helpers of scripts/demo, scripts/shell, demo-flow.sh and deploy-code (sourced; tested by
# cli/tests/scripts.rs).

# A step's heading: bold on a terminal, plain text otherwise (a log, a pipe, NO_COLOR).
step() {
  if [[ -t 1 && -z ${NO_COLOR:-} ]]; then
    printf '\n\033[1m== %s\033[0m\n' "$*"
  else
    printf '\n== %s\n' "$*"
  fi
}

# caller_paths ARG...: sets the array `args` to the arguments, each relative path that exists
# in the caller's directory made absolute, so that a script may cd to the repository and
# still find FILE and BUCKET_DIR where the caller meant them.
caller_paths() {
  args=()
  local a
  for a in "$@"; do
    if [[ -n $a && $a != /* && -e $a ]]; then
      a="$PWD/$a"
    fi
    args+=("$a")
  done
}

# cargo-lambda's --dry prints the settings it would change, `None` for those it leaves alone:
# say so in words (stdin to stdout).
unchanged_settings() {
  sed -E 's/\b(timeout|memory|memory_size|tracing|runtime)( *[:=] *)None\b/\1\2unchanged (kept as deployed)/g'
}
