# Prints what zsh completes for each command line given, using the completion functions in DIR:
#   zsh -f zsh_complete.zsh DIR 'graph-threads create --' 'graph-threads -o '
# For each line: "@@ LINE", then its matches, one per line, sorted.
#
# Completion only runs inside ZLE, so this starts an interactive zsh on a pseudo-terminal (zpty),
# types the line and a TAB, and records every match the completion system adds: compadd is
# wrapped, and each match it accepts is written to a file. Nothing of the user's setup is read
# (ZDOTDIR is a fresh directory, global rc files are off).
emulate -L zsh
zmodload zsh/zpty zsh/zselect || exit 1
local dir=${1:A} line
shift
local tmp
tmp=$(mktemp -d) || exit 1

print -r -- 'setopt no_global_rcs' > $tmp/.zshenv
cat > $tmp/.zshrc <<RC
PS1='> ' RPS1=''
fpath=(${(q)dir} \$fpath)
autoload -Uz compinit && compinit -u -D
zstyle ':completion:*' list-prompt ''
zstyle ':completion:*' menu no
compadd() {
  # Calls that only collect matches into an array (-O, -A, -D) are internal: pass them on.
  if (( \${@[(I)-[OAD]*]} )); then builtin compadd "\$@"; return; fi
  local -a gt_hits
  builtin compadd -O gt_hits "\$@"
  (( \$#gt_hits )) && print -rl -- \$gt_hits >> ${(q)tmp}/matches
  builtin compadd "\$@"
}
gt_done() { : > ${(q)tmp}/done }
# _main_complete empties comppostfuncs after each completion: set it again for every TAB.
gt_complete() { comppostfuncs=(gt_done); _main_complete "\$@" }
zle -C gt-complete complete-word gt_complete
bindkey '^I' gt-complete
: > ${(q)tmp}/ready
RC

zpty gt env ZDOTDIR=$tmp zsh -i
# Waits (up to 30 s) for a file the shell in the pty creates, reading its output meanwhile.
wait_for() {
  local chunk i
  for (( i = 0; i < 3000; i++ )); do
    [[ -e $1 ]] && return 0
    zpty -r -t gt chunk || zselect -t 1
  done
  return 1
}
local ok=1
if wait_for $tmp/ready; then
  for line in "$@"; do
    rm -f -- $tmp/done $tmp/matches
    zpty -w -n gt "$line"$'\t'
    if ! wait_for $tmp/done; then
      print -u2 "zsh_complete: no completion ran for: $line"
      ok=0
      break
    fi
    print -r -- "@@ $line"
    [[ -e $tmp/matches ]] && sort -u $tmp/matches
    zpty -w -n gt $'\C-u'  # kill-whole-line, ready for the next line
  done
else
  print -u2 "zsh_complete: the interactive zsh did not start"
  ok=0
fi
zpty -d gt
# (No EXIT trap for the clean-up: the child zpty forks would run it, removing the rc files.)
rm -rf -- $tmp
(( ok ))
