# What a graph-threads binary says about itself, for the tests that hold the completions and the
# man pages to it. Sourced by completion_test.sh and man_test.sh. When the binary fails or says
# nothing, each function prints a word no completion or page has ("<none: ...>"), so that the
# test fails instead of checking an empty list.

# help_flags BIN [COMMAND...]: the flags `BIN [COMMAND...] --help` lists, one a line ("-o,--output"
# gives -o and --output). Only CLI11's option lines count (two spaces, then the flag, then a space
# or the end), not the "Global flags: --token, ..." summary.
help_flags() {
  local bin=$1 help flags
  shift
  help=$("$bin" "$@" --help) || { echo "<none: $* --help failed>"; return; }
  flags=$(printf '%s\n' "$help" |
    sed -nE 's/^  (-[A-Za-z0-9],)?(--?[A-Za-z0-9][A-Za-z0-9-]*)([ =].*)?$/\1\2/p' | tr ',' '\n')
  [ -n "$flags" ] && printf '%s\n' "$flags" | sort -u || echo "<none: no flags in $* --help>"
}

# help_commands BIN [COMMAND...]: the subcommands under "Subcommands:" in the help.
help_commands() {
  local bin=$1 commands
  shift
  commands=$("$bin" "$@" --help |
    awk '/^Subcommands:/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print $1 }')
  [ -n "$commands" ] && printf '%s\n' "$commands" || echo "<none: no commands in $* --help>"
}

# accepted_values BIN COMMAND FLAG: the values FLAG takes, from the message a wrong one gets
# ("--cloud: expected one of global, usgov, dod, china (got ...").
accepted_values() {
  local values
  values=$("$1" "$2" "$3" '?' 2>&1 | sed -nE 's/.*expected one of (.*) \(got.*/\1/p' | tr -d ',')
  [ -n "$values" ] && echo "$values" || echo "<none: no values in the error for $2 $3>"
}
