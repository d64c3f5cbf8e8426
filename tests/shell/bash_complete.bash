# Prints what bash completes for each command line given, with Debian's bash-completion loaded
# and the completion script FILE sourced, the way a bash completion is called on TAB:
#   bash --norc --noprofile bash_complete.bash FILE 'graph-threads create --' 'graph-threads -o '
# For each line: "@@ LINE", then the matches (COMPREPLY), one per line, sorted.
. /usr/share/bash-completion/bash_completion || exit 1
. "$1" || exit 1
shift
spec=$(complete -p graph-threads) || exit 1
function=${spec#*-F }
function=${function%% *}

for line; do
  read -ra COMP_WORDS <<<"$line"
  [[ $line == *' ' ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE=$line
  COMP_POINT=${#line}
  COMPREPLY=()
  "$function" graph-threads "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
  echo "@@ $line"
  ((${#COMPREPLY[@]})) && printf '%s\n' "${COMPREPLY[@]}" | sort -u
done
exit 0
