#!/bin/bash
# Checks what a user gets from an installation and from the Debian package:
#   package_test.sh install BUILD_DIR VERSION   cmake --install into a scratch prefix, then use it:
#       both programs run (a create and a list against the installed emulator), man finds and
#       renders both pages, and bash, zsh and fish each load the completion from where it landed.
#   package_test.sh deb BUILD_DIR VERSION       cpack -G DEB, then dpkg-deb -I/-c: name, version,
#       section, Depends from dpkg-shlibdeps, every file; the extracted binary runs.
set -u
mode=$1 build=$2 version=$3

tmp=$(mktemp -d)
emulator_pid=""
cleanup() {
  [ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null && wait "$emulator_pid" 2>/dev/null
  rm -rf -- "$tmp"
}
trap cleanup EXIT

failures=0
fail() {
  echo "FAIL ($mode): $*"
  failures=$((failures + 1))
}

install_test() {
  local prefix=$tmp/usr bin=$tmp/usr/bin share=$tmp/usr/share
  local out
  out=$(cmake --install "$build" --prefix "$prefix" 2>&1) || { fail "cmake --install: $out"; return; }

  out=$("$bin/graph-threads" --version 2>&1)
  [ "$out" = "graph-threads $version" ] || fail "graph-threads --version printed '$out'"
  out=$("$bin/graph-threads" --help 2>&1) && [[ "$out" == *"Usage: graph-threads"* ]] ||
    fail "graph-threads --help: $out"
  out=$("$bin/graph-threads-emulator" --version 2>&1) && [[ "$out" == *"$version"* ]] ||
    fail "graph-threads-emulator --version printed '$out'"

  # A real create and list with the installed programs, over TLS on loopback.
  "$bin/graph-threads-emulator" --listen 127.0.0.1:0 --ca-out "$tmp/ca.pem" --quiet \
    >"$tmp/emulator.out" 2>"$tmp/emulator.err" &
  emulator_pid=$!
  local url="" i group=02bd9fd6-8f93-4758-87c3-1fb73740a315 id
  for ((i = 0; i < 600; i++)); do
    url=$(sed -n 's/^listening on //p' "$tmp/emulator.out")
    [ -n "$url" ] && break
    sleep 0.05
  done
  if [ -z "$url" ]; then
    fail "the installed emulator did not start: $(cat "$tmp/emulator.err")"
  else
    local flags=(--base-url "$url" --cacert "$tmp/ca.pem" --token installed)
    id=$("$bin/graph-threads" create "${flags[@]}" --group $group --topic "Installed" \
      --body "from the staging prefix" -o id 2>&1) && [ -n "$id" ] || fail "create: $id"
    out=$("$bin/graph-threads" list "${flags[@]}" --group $group -o id 2>&1) &&
      printf '%s\n' "$out" | grep -qxF -- "$id" || fail "list does not show $id: $out"
  fi

  # man finds the pages by name in the prefix, and renders them without a warning.
  local page err
  for page in graph-threads graph-threads-emulator; do
    out=$(MANPATH=$share/man man -w "$page" 2>&1)
    [ "$out" = "$share/man/man1/$page.1.gz" ] || fail "man -w $page: $out"
    out=$(MANWIDTH=80 man -l -P cat "$share/man/man1/$page.1.gz" 2>"$tmp/man.err")
    err=$(cat "$tmp/man.err")
    [[ "$out" == *NAME*"$page"* && -z "$err" ]] || fail "man -l $page.1.gz: $err"
  done

  # Each shell finds the completion where it was installed, the way it looks for completions.
  out=$(XDG_DATA_DIRS=$share bash --norc --noprofile -c \
    '. /usr/share/bash-completion/bash_completion; _completion_loader graph-threads
     complete -p graph-threads' 2>&1)
  [[ "$out" == "complete -F "*" graph-threads" ]] ||
    fail "bash-completion does not load share/bash-completion/completions/graph-threads: $out"
  out=$(zsh -f -c 'fpath=("$1" $fpath); autoload -Uz compinit; compinit -u -D
                   print -r -- $_comps[graph-threads]' zsh "$share/zsh/vendor-completions" 2>&1)
  [ "$out" = "_graph-threads" ] ||
    fail "compinit does not pick up share/zsh/vendor-completions/_graph-threads: $out"
  mkdir -p "$tmp/home"
  out=$(HOME=$tmp/home XDG_CONFIG_HOME=$tmp/home XDG_DATA_DIRS=$share PATH=$bin:$PATH \
    fish -c 'complete --do-complete "graph-threads cre"' 2>&1)
  [[ "$out" == create* ]] ||
    fail "fish does not load share/fish/vendor_completions.d/graph-threads.fish: $out"
}

deb_test() {
  local out deb
  out=$(cpack --config "$build/CPackConfig.cmake" -G DEB -B "$tmp/pkg" 2>&1) ||
    { fail "cpack -G DEB: $out"; return; }
  deb=$(ls "$tmp"/pkg/*.deb 2>/dev/null)
  [ "$(printf '%s\n' "$deb" | grep -c '\.deb$')" = 1 ] || { fail "no single .deb: $out"; return; }
  [ "$(basename "$deb")" = "graph-threads_${version}_$(dpkg --print-architecture).deb" ] ||
    fail "package file is named $(basename "$deb")"

  local field want
  for want in "Package=graph-threads" "Version=$version" "Section=utils" "Priority=optional" \
              "Architecture=$(dpkg --print-architecture)"; do
    field=$(dpkg-deb -f "$deb" "${want%%=*}")
    [ "$field" = "${want#*=}" ] || fail "${want%%=*} is '$field', not '${want#*=}'"
  done
  [ -n "$(dpkg-deb -f "$deb" Maintainer)" ] || fail "no Maintainer"
  [ -n "$(dpkg-deb -f "$deb" Description)" ] || fail "no Description"
  # Depends comes from dpkg-shlibdeps: the libraries the programs are linked with.
  local depends
  depends=$(dpkg-deb -f "$deb" Depends)
  for want in libc6 libssl3 libstdc++6 libgcc-s1; do
    [[ ", $depends" == *", $want "* ]] || fail "Depends lacks $want: $depends"
  done

  local contents path
  contents=$(dpkg-deb -c "$deb" | awk '{ print $NF }')
  for path in ./usr/bin/graph-threads ./usr/bin/graph-threads-emulator \
              ./usr/share/man/man1/graph-threads.1.gz ./usr/share/man/man1/graph-threads-emulator.1.gz \
              ./usr/share/bash-completion/completions/graph-threads \
              ./usr/share/zsh/vendor-completions/_graph-threads \
              ./usr/share/fish/vendor_completions.d/graph-threads.fish; do
    printf '%s\n' "$contents" | grep -qxF -- "$path" || fail "the package lacks $path"
  done
  # Nothing else: no headers, static libraries, tests or benchmarks.
  out=$(printf '%s\n' "$contents" | grep -v '/$' | grep -cv \
    -e '^./usr/bin/graph-threads' -e '^./usr/share/man/man1/graph-threads' \
    -e '^./usr/share/bash-completion/' -e '^./usr/share/zsh/' -e '^./usr/share/fish/')
  [ "$out" = 0 ] || fail "the package holds other files: $contents"

  dpkg-deb -x "$deb" "$tmp/root"
  out=$("$tmp/root/usr/bin/graph-threads" --version 2>&1)
  [ "$out" = "graph-threads $version" ] || fail "the packaged graph-threads --version: $out"
  echo "$(basename "$deb"): Depends: $depends"
}

case "$mode" in
  install) install_test ;;
  deb) deb_test ;;
  *) echo "usage: package_test.sh install|deb BUILD_DIR VERSION" >&2; exit 2 ;;
esac
echo "$mode: $failures failure(s)"
[ "$failures" -eq 0 ]
