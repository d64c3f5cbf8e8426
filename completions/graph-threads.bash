# bash completion for graph-threads                                   -*- shell-script -*-
# Install as /usr/share/bash-completion/completions/graph-threads, or source it.

_graph_threads() {
  local cur prev words cword
  if declare -F _init_completion >/dev/null; then
    _init_completion || return
  else
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
  fi

  local global="--token --token-file --base-url --cloud --api-version --cacert --timeout
                --retries -o --output --dry-run -v --verbose --debug --version -h --help"
  global="$global --proxy --no-proxy"
  local thread="--group"
  local reply="--group --body --body-file --content-type"
  local delete="--group -y --yes"
  local create="--group --topic --body --body-file --content-type --to --cc --participant --input --bulk --concurrency --batch --max-rate --validate-only --reconcile --reconcile-delay --resume --no-progress"

  case "$prev" in
    --cloud) COMPREPLY=($(compgen -W "global usgov dod china" -- "$cur")); return ;;
    --api-version) COMPREPLY=($(compgen -W "v1.0 beta" -- "$cur")); return ;;
    -o|--output) COMPREPLY=($(compgen -W "json table id" -- "$cur")); return ;;
    --content-type) COMPREPLY=($(compgen -W "text html" -- "$cur")); return ;;
    --token-file|--cacert|--body-file|--input|--resume) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    --proxy) return ;;
    --token|--base-url|--timeout|--retries|--group|--topic|--body|--to|--cc|--participant|--concurrency|--max-rate|--reconcile-delay)
      return ;;
  esac

  local command="" w
  for w in "${words[@]:1:cword-1}"; do
    case "$w" in
      create|list|get|reply|lock|unlock|delete|auth|doctor) command=$w; break ;;
    esac
  done
  case "$command" in
    "") COMPREPLY=($(compgen -W "create list get reply lock unlock delete auth doctor $global" -- "$cur")) ;;
    create) COMPREPLY=($(compgen -W "$create $global" -- "$cur")) ;;
    list) COMPREPLY=($(compgen -W "--group --top --all $global" -- "$cur")) ;;
    get|lock|unlock) COMPREPLY=($(compgen -W "$thread $global" -- "$cur")) ;;
    reply) COMPREPLY=($(compgen -W "$reply $global" -- "$cur")) ;;
    delete) COMPREPLY=($(compgen -W "$delete $global" -- "$cur")) ;;
    doctor) COMPREPLY=($(compgen -W "--group $global" -- "$cur")) ;;
    *) COMPREPLY=($(compgen -W "$global" -- "$cur")) ;;
  esac
}
complete -F _graph_threads graph-threads
