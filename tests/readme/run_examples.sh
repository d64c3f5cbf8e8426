#!/bin/bash
# Runs every example of a README section against a fresh graph-threads-emulator, so that what the
# README promises is what the tool does. Used by CTest (tests/CMakeLists.txt).
#
#   run_examples.sh README.md "## Scripting" BUILD_APP_DIR
#
# Each ```sh block of the section is one example, run by `bash -eo pipefail` in a scratch
# directory with graph-threads on PATH and GRAPH_BASE_URL, SSL_CERT_FILE (the emulator's CA) and
# GRAPH_TOKEN pointing at the emulator, and GID set to a group id. An example passes when it exits
# 0 and, if a ```text block follows it (a blank line between is allowed), its stdout matches that
# block line by line; "…" in an expected line matches any text (ids, dates). Threads created by one
# example are visible to the next (one emulator for the section, examples in README order).
set -u

readme="$1"
section="$2"
app_dir="$(cd "$3" && pwd)"

work="$(mktemp -d)"
emulator_pid=""
cleanup() {
  if [ -n "$emulator_pid" ]; then
    kill "$emulator_pid" 2>/dev/null
    wait "$emulator_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# Split the section into files: example-N.sh and, when one follows, example-N.expected.
awk -v section="$section" -v dir="$work" '
  $0 == section { inside = 1; next }
  inside && /^## / { inside = 0 }
  !inside { next }
  # In a block: copy lines (or skip them, for other languages) until the closing fence.
  in_block && /^```$/ { if (out != "") close(out); in_block = 0; after = kind; next }
  in_block { if (out != "") print > out; next }
  # Outside: a fence opens a block. A text block belongs to the sh block just before it.
  /^```sh$/ { n++; out = dir "/example-" n ".sh"; printf "" > out; in_block = 1; kind = "sh"; next }
  /^```text$/ && after == "sh" {
    out = dir "/example-" n ".expected"; printf "" > out; in_block = 1; kind = "text"; next
  }
  /^```/ { out = ""; in_block = 1; kind = "other"; next }
  /^[[:space:]]*$/ { next }
  { after = "prose" }
' "$readme"

examples=$(ls "$work"/example-*.sh 2>/dev/null | wc -l)
if [ "$examples" -eq 0 ]; then
  echo "run_examples: no \`\`\`sh examples under \"$section\" in $readme" >&2
  exit 1
fi

"$app_dir/graph-threads-emulator" --listen 127.0.0.1:0 --ca-out "$work/ca.pem" \
  >"$work/emulator.out" 2>"$work/emulator.log" &
emulator_pid=$!
url=""
for _ in $(seq 200); do
  url="$(head -n 1 "$work/emulator.out" 2>/dev/null)"
  [ -n "$url" ] && break
  kill -0 "$emulator_pid" 2>/dev/null || { cat "$work/emulator.log" >&2; exit 1; }
  sleep 0.05
done
url="${url#listening on }"
[ -n "$url" ] || { echo "run_examples: the emulator did not start" >&2; exit 1; }

mkdir "$work/cwd"
failed=0
for i in $(seq "$examples"); do
  script="$work/example-$i.sh"
  (
    cd "$work/cwd" || exit 1
    export PATH="$app_dir:$PATH" GRAPH_BASE_URL="$url" SSL_CERT_FILE="$work/ca.pem" \
      GRAPH_TOKEN=readme-example-token GID=02bd9fd6-8f93-4758-87c3-1fb73740a315
    unset NO_COLOR CLICOLOR_FORCE HTTPS_PROXY https_proxy ALL_PROXY all_proxy
    bash -eo pipefail "$script" >"$work/out-$i" 2>"$work/err-$i" </dev/null
  )
  code=$?
  if [ "$code" -ne 0 ]; then
    echo "FAIL example $i (exit $code):" >&2
    sed 's/^/  | /' "$script" >&2
    echo "  stdout:" >&2; sed 's/^/  > /' "$work/out-$i" >&2
    echo "  stderr:" >&2; sed 's/^/  ! /' "$work/err-$i" >&2
    failed=$((failed + 1))
    continue
  fi
  expected="$work/example-$i.expected"
  if [ -f "$expected" ]; then
    mismatch=""
    if [ "$(wc -l <"$expected")" -ne "$(wc -l <"$work/out-$i")" ]; then
      mismatch="expected $(wc -l <"$expected") lines, got $(wc -l <"$work/out-$i")"
    else
      n=0
      while IFS= read -r want <&3 && IFS= read -r got <&4; do
        n=$((n + 1))
        # Literal text, except that … matches anything: escape glob characters, then … -> *.
        pattern="$(printf '%s' "$want" | sed -e 's/[][*?\\]/\\&/g' -e 's/…/*/g')"
        # shellcheck disable=SC2053
        if [[ "$got" != $pattern ]]; then
          mismatch="line $n: expected '$want', got '$got'"
          break
        fi
      done 3<"$expected" 4<"$work/out-$i"
    fi
    if [ -n "$mismatch" ]; then
      echo "FAIL example $i: $mismatch" >&2
      sed 's/^/  | /' "$script" >&2
      echo "  stdout:" >&2; sed 's/^/  > /' "$work/out-$i" >&2
      failed=$((failed + 1))
      continue
    fi
  fi
  echo "ok   example $i$([ -f "$expected" ] && echo ' (output checked)')"
done

echo "$examples examples, $failed failed"
[ "$failed" -eq 0 ]
