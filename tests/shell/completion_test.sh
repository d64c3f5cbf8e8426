#!/bin/bash
# Checks a shell completion for graph-threads in the real shell, against the binary itself:
#   completion_test.sh bash|zsh|fish GRAPH_THREADS COMPLETION_FILE
# What must complete is read from the binary: every command `graph-threads --help` lists (and
# `auth --help`), every flag of `graph-threads [COMMAND] --help` (global flags after every command),
# and after each flag with a fixed set of values, the values its own error message names. Flags
# the binary does not have yet may be completed; values it rejects may not, except those in AHEAD.
set -u
shell=$1 bin=$2 file=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/help_flags.sh"

# Values completed before the binary accepts them (-o ndjson|tsv, being added on another branch).
AHEAD="ndjson tsv"

failures=0
fail() {
  echo "FAIL ($shell): $*"
  failures=$((failures + 1))
}

# The lines to complete, and what must be among the matches of each.
lines=() expected=()
want() { lines+=("$1"); expected+=("$2"); }

global=$(help_flags "$bin" | grep -vx -- --version)
want "graph-threads " "$(help_commands "$bin")"
want "graph-threads -" "$(help_flags "$bin")"
for command in $(help_commands "$bin"); do
  if [ "$command" = auth ]; then
    want "graph-threads auth " "$(help_commands "$bin" auth)"
    for sub in $(help_commands "$bin" auth); do
      want "graph-threads auth $sub -" "$(help_flags "$bin" auth "$sub") $global"
    done
  else
    want "graph-threads $command -" "$(help_flags "$bin" "$command") $global"
  fi
done

# Flags whose values are a fixed set, with a command that takes them.
enums=("list --output" "list -o" "list --cloud" "get --api-version" "create --content-type"
       "reply --content-type")
first_enum=${#lines[@]}
for enum in "${enums[@]}"; do
  want "graph-threads $enum " "$(accepted_values "$bin" $enum)"
done

case "$shell" in
  bash) output=$(bash --norc --noprofile "$here/bash_complete.bash" "$file" "${lines[@]}") ;;
  zsh) output=$(zsh -f "$here/zsh_complete.zsh" "$(dirname "$file")" "${lines[@]}") ;;
  fish) output=$(fish --no-config "$here/fish_complete.fish" "$file" "${lines[@]}") ;;
  *) echo "usage: completion_test.sh bash|zsh|fish GRAPH_THREADS COMPLETION_FILE" >&2; exit 2 ;;
esac || { echo "FAIL ($shell): the completion harness failed"; exit 1; }

# The matches for a line, from the harness output ("@@ LINE" then one match a line).
matches() {
  printf '%s\n' "$output" | awk -v want="@@ $1" '/^@@ / { on = ($0 == want); next } on'
}

for i in "${!lines[@]}"; do
  line=${lines[i]}
  got=$(matches "$line")
  [ -n "$got" ] || { fail "'$line' completes nothing"; continue; }
  for word in ${expected[i]}; do
    printf '%s\n' "$got" | grep -qxF -- "$word" || fail "'$line' does not offer $word"
  done
  if [ "$i" -ge "$first_enum" ]; then
    for word in $got; do
      case " ${expected[i]} $AHEAD " in
        *" $word "*) ;;
        *) fail "'$line' offers $word, which graph-threads rejects" ;;
      esac
    done
  fi
done

echo "$shell: ${#lines[@]} command lines checked, $failures failure(s)"
[ "$failures" -eq 0 ]
