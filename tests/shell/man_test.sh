#!/bin/bash
# Checks a man page against its binary:  man_test.sh PAGE BINARY
#  - mandoc -T lint and groff -ww find nothing to warn about;
#  - every flag `BINARY [COMMAND...] --help` prints, for every command and auth's commands, and
#    every variable under the help's "Environment:", appears in the page.
set -u
page=$1 bin=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/help_flags.sh"

failures=0
fail() {
  echo "FAIL ($(basename "$page")): $*"
  failures=$((failures + 1))
}

lint=$(mandoc -T lint -W warning "$page" 2>&1) && [ -z "$lint" ] ||
  fail "mandoc -T lint: ${lint:-exit status $?}"
lint=$(groff -man -ww -z "$page" 2>&1) && [ -z "$lint" ] || fail "groff -ww: ${lint:-exit status $?}"

# The page's text as a reader sees the words: \- is -, font changes and \& are gone.
text=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' "$page")

# Every command path: "" (the program itself), each command, and each command under auth.
paths=("")
if "$bin" --help | grep -q '^Subcommands:'; then
  for command in $(help_commands "$bin"); do
    paths+=("$command")
    if "$bin" "$command" --help | grep -q '^Subcommands:'; then
      for sub in $(help_commands "$bin" "$command"); do paths+=("$command $sub"); done
    fi
  done
fi

checked=0
for path in "${paths[@]}"; do
  for flag in $(help_flags "$bin" $path); do
    checked=$((checked + 1))
    printf '%s\n' "$text" | grep -qE -- "(^|[^A-Za-z0-9-])$flag([^A-Za-z0-9-]|$)" ||
      fail "${path:-$(basename "$bin")} $flag is not in the page"
  done
  [ -n "$path" ] && { printf '%s\n' "$text" | grep -qw -- "${path##* }" ||
    fail "command '$path' is not in the page"; }
done

for variable in $("$bin" --help | awk '/^Environment:/ { on = 1; next } on && /^$/ { exit } on' |
                  grep -oE '\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b' | sort -u); do
  checked=$((checked + 1))
  printf '%s\n' "$text" | grep -qw -- "$variable" || fail "$variable is not in the page"
done

echo "$(basename "$page"): ${#paths[@]} command(s), $checked flags and variables checked," \
  "$failures failure(s)"
[ "$failures" -eq 0 ]
