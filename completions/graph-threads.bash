# bash completion for graph-threads                                   -*- shell-script -*-
# Installed as share/bash-completion/completions/graph-threads, where bash-completion loads it on
# first use; or source it from ~/.bashrc. tests/shell/completion_test.sh checks it in a real bash
# against the flags `graph-threads [COMMAND] --help` prints.

_graph_threads() {
  local cur prev words cword split=false
  if declare -F _init_completion >/dev/null; then
    _init_completion -s || return
  else
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
  fi

  # Flags that take a value: the word after one of them is never a command.
  local valued="--token --token-file --base-url --cloud --api-version --cacert --timeout
                --retries -o --output --proxy --jq --group --topic --body --body-file
                --content-type --input --concurrency --max-rate --reconcile-delay --resume --to
                --cc --participant --top --select --scope --tenant --client-id"
  local global="--token --token-file --base-url --cloud --api-version --cacert --timeout
                --retries -o --output --dry-run -v --verbose --proxy --no-proxy --jq --debug -h --help"
  local thread="--group"
  local reply="--group --body --body-file --content-type"
  local delete="--group -y --yes"
  local list="--group --top --all --select"
  local create="--group --topic --body --body-file --content-type --input --to --cc
                --participant --bulk --concurrency --batch --max-rate --validate-only --reconcile
                --reconcile-delay --resume --no-progress --if-not-exists"
  # A conversationThread's properties, for --select's comma-separated list.
  local properties="id topic lastDeliveredDateTime isLocked preview hasAttachments uniqueSenders
                    toRecipients ccRecipients"

  case "$prev" in
    --cloud) COMPREPLY=($(compgen -W "global usgov dod china" -- "$cur")); return ;;
    --api-version) COMPREPLY=($(compgen -W "v1.0 beta" -- "$cur")); return ;;
    -o|--output) COMPREPLY=($(compgen -W "json table id ndjson tsv" -- "$cur")); return ;;
    --content-type) COMPREPLY=($(compgen -W "text html" -- "$cur")); return ;;
    --select)
      # Complete the property after the last comma, keeping what comes before it.
      local done="" last="$cur"
      if [[ "$cur" == *,* ]]; then done="${cur%,*},"; last="${cur##*,}"; fi
      COMPREPLY=($(compgen -P "$done" -W "$properties" -- "$last"))
      declare -F compopt >/dev/null && compopt -o nospace
      return ;;
    --token-file|--cacert|--body-file|--input|--resume)
      if declare -F _filedir >/dev/null; then _filedir; else COMPREPLY=($(compgen -f -- "$cur")); fi
      return ;;
    --token|--base-url|--timeout|--retries|--proxy|--jq|--group|--topic|--body|--to|--cc|\
    --participant|--concurrency|--max-rate|--reconcile-delay|--top|--scope|--tenant|--client-id)
      return ;;
  esac
  $split && return

  # The command (and auth's subcommand): the first words that are not flags or flag values.
  local command="" sub="" w i
  for ((i = 1; i < cword; i++)); do
    w="${words[i]}"
    if [[ " $valued " == *[[:space:]]"$w"[[:space:]]* ]]; then
      ((i++))
    elif [[ "$w" != -* ]]; then
      if [[ -z "$command" ]]; then command="$w"
      elif [[ "$command" == auth && -z "$sub" ]]; then sub="$w"
      fi
    fi
  done

  local flags
  case "$command" in
    "")
      if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$global --version" -- "$cur"))
      else
        COMPREPLY=($(compgen -W "create list get reply lock unlock delete auth doctor" -- "$cur"))
      fi
      return ;;
    auth)
      if [[ -z "$sub" && "$cur" != -* ]]; then
        COMPREPLY=($(compgen -W "login status token logout export-refresh-token" -- "$cur"))
        return
      fi
      case "$sub" in
        login) flags="--scope --tenant --client-id" ;;
        logout) flags="--all" ;;
        doctor) flags="--group" ;;
    *) flags="" ;;
      esac ;;
    create) flags="$create" ;;
    list) flags="$list" ;;
    get|lock|unlock) flags="$thread" ;;
    reply) flags="$reply" ;;
    delete) flags="$delete" ;;
    doctor) flags="--group" ;;
    *) flags="" ;;
  esac
  COMPREPLY=($(compgen -W "$flags $global" -- "$cur"))
}
complete -F _graph_threads graph-threads
