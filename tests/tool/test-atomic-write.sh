#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Drives the real atomic-write binary through shell pipelines, FIFOs and signals, and
# checks its results on a real filesystem. Prints TAP (one line per case).
# Usage: test-atomic-write.sh ATOMIC_WRITE VERSION MAN_PAGE
#   ATOMICWRITES_TEST_DIR (else TMPDIR)  where the cases work (each in a fresh
#           directory); as root, a few cases also
#           mount small tmpfs filesystems there.
# Single-quoted expressions are expanded later on purpose (eval, sh -c).
# shellcheck disable=SC2016
set -u
aw=$(realpath "$1")
version=$2
man_page=$(realpath "$3")
base=$(mktemp -d "${ATOMICWRITES_TEST_DIR:-${TMPDIR:-/tmp}}/atomic-write-test.XXXXXX")
cleanup() {
  grep -F " $base/" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m"; done
  chmod -R u+rwx "$base" 2>/dev/null
  rm -rf "$base"
}
trap cleanup EXIT

# --- the harness ---------------------------------------------------------------------
n=0
failed=0
# run_case DESCRIPTION FUNCTION: runs FUNCTION in a subshell in a fresh directory.
run_case() {
  n=$((n + 1))
  local dir="$base/case$n" out
  mkdir "$dir"
  out=$(cd "$dir" && (set -u; "$2") 2>&1)
  local status=$?
  if [ $status -eq 0 ]; then
    echo "ok $n - $1"
  elif [ $status -eq 77 ]; then
    echo "ok $n - $1 # SKIP ${out##*$'\n'}"
  else
    echo "not ok $n - $1"
    failed=$((failed + 1))
  fi
  [ $status -eq 0 ] || printf '%s\n' "$out" | sed 's/^/# /'
}
fail() { echo "FAILED: $*"; exit 1; }
skip() { echo "$*"; exit 77; }
# expect_status WANT GOT
expect_status() { [ "$2" -eq "$1" ] || fail "exit status $2, expected $1"; }
# expect_content FILE TEXT
expect_content() {
  [ -f "$1" ] || fail "$1 is missing"
  [ "$(cat "$1")" = "$2" ] || fail "$1 holds '$(head -c 200 "$1")', expected '$2'"
}
# expect_message FILE_WITH_STDERR TEXT...: every TEXT appears in it.
expect_message() {
  local f=$1
  shift
  for t in "$@"; do grep -qF -- "$t" "$f" || fail "message '$(cat "$f")' lacks '$t'"; done
}
# The names in a directory, dot-files included (to find leftover temporary files).
names() { (cd "$1" && find . -mindepth 1 -maxdepth 1 -printf '%f\n' | LC_ALL=C sort | tr '\n' ' '); }
expect_names() { [ "$(names "$1")" = "$2" ] || fail "$1 holds '$(names "$1")', expected '$2'"; }
mode_of() { stat -c %a "$1"; }
inode_of() { stat -c %i "$1"; }
# Whether the temporary file of the running atomic-write PID is unnamed (O_TMPFILE):
# its descriptor then shows as "DIR/#INODE (deleted)".
temp_is_unnamed() {
  local fd
  for fd in /proc/"$1"/fd/*; do
    [[ $(readlink "$fd") =~ /#[0-9]+\ \(deleted\)$ ]] && return 0
  done
  return 1
}
# The size of the temporary file atomic-write PID writes in directory DIR: unnamed
# ("DIR/#INODE (deleted)") or named ("DIR/.NAME.XXXXXXXX.tmp").
temp_size() {
  local fd
  for fd in /proc/"$1"/fd/*; do
    case $(readlink "$fd") in
      "$2"/\#*" (deleted)" | "$2"/.*.tmp) stat -L -c %s "$fd" && return 0 ;;
    esac
  done
  echo 0
}
# wait_until CMD...: polls CMD for up to 10 s. (Callers pass 'eval' with a single-quoted
# expression, expanded at each poll.)
wait_until() {
  local _
  for _ in $(seq 200); do
    "$@" && return 0
    sleep 0.05
  done
  return 1
}
is_root() { [ "$(id -u)" -eq 0 ]; }

# --- usage ---------------------------------------------------------------------------
t_help() {
  "$aw" --help >out 2>err; expect_status 0 $?
  for o in --no-clobber --no-empty --sync=LEVEL --mode=MODE --create-mode=MODE --owner=UID:GID --require-owner --symlink=HOW --link --tree --keep=N --expect-unchanged --lock --help --version; do
    grep -qF -- "$o" out || fail "--help does not mention $o"
  done
  for s in 0 1 2 3 4 5 6 126; do grep -qE "^  $s " out || fail "--help does not explain exit status $s"; done
  "$aw" -h | cmp -s - out || fail "-h differs from --help"
  [ ! -s err ] || fail "--help wrote to standard error"
  # A kill between naming the unnamed file and the rename leaves that name: neither
  # text may promise that nothing is ever left behind.
  grep -qF "unnamed file and renaming it over FILE" out || fail "--help hides the window a kill can leave a name in"
  grep -qi "whatever happens" out "$man_page" && fail "--help or the man page promise nothing is left whatever happens"
  grep -qF "naming the unnamed file and renaming it over" "$man_page" || fail "the man page hides the window a kill can leave a name in"
}
run_case "--help lists every option and exit status on standard output" t_help

t_version() {
  [ "$("$aw" --version)" = "atomic-write (atomicwrites) $version" ] || fail "--version says '$("$aw" --version)'"
  [ "$("$aw" -V)" = "atomic-write (atomicwrites) $version" ] || fail "-V differs"
}
run_case "--version names the project's version" t_version

t_man() {
  for o in no-clobber no-empty sync mode create-mode owner require-owner symlink link tree keep expect-unchanged lock progress help version; do
    grep -qF -- "\\-\\-${o//-/\\-}" "$man_page" || fail "the man page does not document --$o"
  done
  for s in 0 1 2 3 4 5 6 126 127; do grep -qx ".B $s" "$man_page" || fail "the man page lacks exit status $s"; done
  for v in full data none replace follow keep refuse; do grep -qE "^\.BR? (.* )?$v( |$)" "$man_page" || fail "no entry for $v"; done
  if command -v groff >/dev/null; then
    warnings=$(LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 "$man_page" 2>&1)
    [ -z "$warnings" ] || fail "groff warns: $warnings"
  fi
}
run_case "the man page documents every option, value and exit status (and groff accepts it)" t_man

t_usage_errors() {
  echo old >f
  local args
  for args in "" "-x f" "--bogus f" "--sync=fast f" "--sync" "-m 9 f" "--mode=10000 f" "--mode= f" \
      "--symlink=maybe f" "--no-clobber=yes f" "-n"; do
    # shellcheck disable=SC2086 # each case is a list of words
    "$aw" $args </dev/null 2>err; local status=$?
    [ $status -eq 2 ] || fail "'atomic-write $args' exited with $status, expected 2"
    grep -q "Try 'atomic-write --help'" err || fail "'atomic-write $args' gave no hint: $(cat err)"
  done
  expect_content f old
  expect_names . "err f "
}
run_case "bad usage exits with 2 and changes nothing" t_usage_errors

t_option_after_file() {
  echo old >f
  local args
  for args in "f -n" "f --sync=none" "f --no-empty"; do
    # shellcheck disable=SC2086 # each case is a list of words
    echo new | "$aw" $args 2>err; local status=$?
    [ $status -eq 2 ] || fail "'atomic-write $args' exited with $status, expected 2"
    expect_message err "'${args#f }' after FILE: options go before FILE" "Try 'atomic-write --help'"
  done
  expect_content f old
  # '--' after FILE lets a COMMAND start with a dash.
  echo new | "$aw" f -- -no-such-command 2>err; expect_status 127 $?
  expect_message err "run command '-no-such-command'"
  expect_content f old
  expect_names . "err f "
}
run_case "an option after FILE: status 2 and the hint that options go before FILE" t_option_after_file

# --- writing -------------------------------------------------------------------------
t_new_file() {
  umask 027
  printf 'hello\n' | "$aw" new.txt; expect_status 0 $?
  expect_content new.txt hello
  [ "$(mode_of new.txt)" = 640 ] || fail "mode $(mode_of new.txt), expected 640 (0666 & ~027)"
  expect_names . "new.txt "
}
run_case "a pipeline creates a new file with mode 0666 & ~umask" t_new_file

t_replace() {
  echo old >f
  chmod 600 f
  local before
  before=$(inode_of f)
  echo new | "$aw" f; expect_status 0 $?
  expect_content f new
  [ "$(mode_of f)" = 600 ] || fail "mode $(mode_of f), expected the old file's 600"
  [ "$(inode_of f)" != "$before" ] || fail "the file was rewritten in place, not replaced"
  expect_names . "f "
}
run_case "replacing keeps the old file's mode and puts a new inode in place" t_replace

t_binary() {
  head -c 3000000 /dev/urandom >input
  "$aw" out <input; expect_status 0 $?
  cmp -s input out || fail "the output differs from the input"
  : | "$aw" out; expect_status 0 $?
  if [ ! -f out ] || [ -s out ]; then fail "empty input did not give an empty file"; fi
}
run_case "binary input (NUL bytes, 3 MB) arrives byte for byte; empty input gives an empty file" t_binary

# shellcheck disable=SC2094 # reading the file being replaced is the point
t_sponge() {
  printf 'c\na\nb\n' >data
  sort data | "$aw" data; expect_status 0 $?
  expect_content data "$(printf 'a\nb\nc')"
  "$aw" data <data; expect_status 0 $?
  expect_content data "$(printf 'a\nb\nc')"
  tr '[:lower:]' '[:upper:]' <data | "$aw" data; expect_status 0 $?
  expect_content data "$(printf 'A\nB\nC')"
}
run_case "a pipeline may read the file it replaces (sponge)" t_sponge

t_sync_levels() {
  for level in none data full; do
    echo "$level" | "$aw" --sync="$level" "f-$level"; expect_status 0 $?
    expect_content "f-$level" "$level"
    echo "again $level" | "$aw" -s "$level" "f-$level"; expect_status 0 $?
    expect_content "f-$level" "again $level"
  done
}
run_case "--sync=none|data|full each write the file" t_sync_levels

t_mode() {
  umask 077
  echo a | "$aw" --mode=644 f; expect_status 0 $?
  [ "$(mode_of f)" = 644 ] || fail "mode $(mode_of f), expected exactly 644 despite umask 077"
  echo b | "$aw" -m 0600 f; expect_status 0 $?
  [ "$(mode_of f)" = 600 ] || fail "mode $(mode_of f), expected 600"
  echo c | "$aw" -m640 f; expect_status 0 $?
  [ "$(mode_of f)" = 640 ] || fail "mode $(mode_of f), expected 640"
  expect_content f c
}
run_case "--mode sets the permission bits exactly" t_mode

t_create_mode() {
  for mask in 000 022 027 077; do
    rm -f f
    (umask $mask && echo a | "$aw" --create-mode=664 f); expect_status 0 $?
    [ "$(mode_of f)" = "$(printf '%o' $((0664 & ~0$mask)))" ] || fail "mode $(mode_of f) under umask $mask, expected 664 narrowed"
  done
  chmod 600 f
  echo b | "$aw" --create-mode=644 f; expect_status 0 $?
  [ "$(mode_of f)" = 600 ] || fail "a replaced file got mode $(mode_of f), expected its own 600"
  expect_content f b
}
run_case "--create-mode is narrowed by the umask, and leaves a replaced file its mode" t_create_mode

t_owner() {
  is_root || skip "needs root to give files away"
  command -v setpriv >/dev/null || skip "needs setpriv"
  echo a | "$aw" --owner=65534:100 f; expect_status 0 $?
  [ "$(stat -c %u:%g f)" = 65534:100 ] || fail "f belongs to $(stat -c %u:%g f), expected 65534:100"
  echo b | "$aw" --owner=:0 f; expect_status 0 $?
  [ "$(stat -c %u:%g f)" = 65534:0 ] || fail "f belongs to $(stat -c %u:%g f), expected 65534:0"
  # A writer that is not root may not give files away, nor keep root's.
  mkdir d && chown 65534:65534 d && chmod 755 . d
  echo old > d/r && chown 0:0 d/r
  as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
  echo new | as_nobody "$aw" --owner=0:0 d/n 2>err; expect_status 1 $?
  expect_message err "set owner of temporary file (--owner)" "d/n"
  echo new | as_nobody "$aw" --require-owner d/r 2>err; expect_status 1 $?
  expect_message err "set owner of temporary file (--require-owner" "d/r"
  expect_content d/r old
  [ "$(stat -c %u:%g d/r)" = 0:0 ] || fail "d/r belongs to $(stat -c %u:%g d/r), expected 0:0"
  expect_names d "r "
  echo new | as_nobody "$aw" d/r; expect_status 0 $?
  [ "$(stat -c %u d/r)" = 65534 ] || fail "without --require-owner d/r should be the writer's"
}
run_case "--owner gives FILE away; a refusal, and --require-owner, fail with FILE unchanged" t_owner

t_no_clobber() {
  echo old >f
  echo new | "$aw" --no-clobber f 2>err; expect_status 3 $?
  expect_content f old
  expect_message err "atomic-write: f: --no-clobber: File exists (file not changed)"
  grep -q overwrite err && fail "the message speaks of 'overwrite', not of --no-clobber: $(cat err)"
  echo new | "$aw" -n g; expect_status 0 $?
  expect_content g new
  expect_names . "err f g "
}
run_case "--no-clobber refuses an existing file (status 3) and creates a new one" t_no_clobber

t_no_clobber_race() {
  mkfifo fifo
  "$aw" -n f <fifo 2>err &
  local pid=$!
  exec 3>fifo
  echo "from the input" >&3
  echo "made meanwhile" >f
  exec 3>&-
  wait $pid; expect_status 3 $?
  expect_content f "made meanwhile"
  expect_names . "err f fifo "
}
run_case "--no-clobber: a file that appears during the write is kept (status 3)" t_no_clobber_race

t_symlinks() {
  echo target >real
  ln -s real link
  echo new | "$aw" --symlink=follow link; expect_status 0 $?
  [ -L link ] || fail "follow replaced the link"
  expect_content real new
  echo newer | "$aw" --symlink=keep link; expect_status 0 $?
  [ -L link ] || fail "keep replaced the link"
  expect_content real newer
  echo refused | "$aw" --symlink=refuse link 2>err; expect_status 1 $?
  [ -L link ] || fail "refuse replaced the link"
  expect_content real newer
  expect_message err "atomic-write: link:" "symbolic link" "--symlink=refuse" "(file not changed)"
  grep -q symlink_mode err && fail "the message speaks of symlink_mode, not of --symlink: $(cat err)"
  echo replaced | "$aw" --symlink=replace link; expect_status 0 $?
  [ ! -L link ] || fail "replace did not replace the link"
  expect_content link replaced
  expect_content real newer
  expect_names . "err link real "
}
run_case "--symlink: follow and keep write through the link, refuse fails, replace replaces it" t_symlinks

t_symlinks_followed_by_default() {
  mkdir dotfiles
  printf 'b\na\n' >dotfiles/rc
  ln -s dotfiles/rc rc
  ln -s rc rc2
  # The habit of sponge: sort a file in place through its link.
  sort rc | "$aw" rc; expect_status 0 $?
  [ -L rc ] || fail "the default replaced the link rc"
  expect_content dotfiles/rc "$(printf 'a\nb')"
  # A chain of links ends at the same file; the temporary file is made next to it.
  echo chained | "$aw" rc2; expect_status 0 $?
  [ -L rc2 ] && [ -L rc ] || fail "the default replaced a link of the chain"
  expect_content dotfiles/rc chained
  expect_names dotfiles "rc "
  # A dangling link: the file it names is created, the link kept.
  ln -s dotfiles/new dangling
  echo created | "$aw" dangling; expect_status 0 $?
  [ -L dangling ] || fail "the default replaced the dangling link"
  expect_content dotfiles/new created
  expect_names . "dangling dotfiles rc rc2 "
}
run_case "a symbolic link is followed by default, as sponge does: the link kept, its file replaced" \
  t_symlinks_followed_by_default

t_no_empty() {
  echo old >f
  "$aw" --no-empty f </dev/null 2>err; expect_status 4 $?
  expect_content f old
  expect_message err "atomic-write: f: --no-empty: the input is empty (file not changed)"
  "$aw" --no-empty f true 2>err; expect_status 4 $?
  expect_message err "atomic-write: f: --no-empty: command 'true' wrote nothing (file not changed)"
  expect_content f old
  "$aw" --no-empty new </dev/null 2>err; expect_status 4 $?
  [ ! -e new ] || fail "--no-empty created new from empty input"
  echo new | "$aw" --no-empty f; expect_status 0 $?
  expect_content f new
  "$aw" --no-empty f printf x; expect_status 0 $?
  expect_content f x
  # Without it, as with sponge, empty input empties the file.
  "$aw" f </dev/null; expect_status 0 $?
  [ -f f ] && [ ! -s f ] || fail "empty input did not empty f"
  expect_names . "err f "
}
run_case "--no-empty: empty input leaves the file untouched (status 4); without it the file is emptied" t_no_empty

t_file_named_dash() {
  echo x | "$aw" -- -n; expect_status 0 $?
  expect_content ./-n x
  echo y | "$aw" -; expect_status 0 $?
  expect_content ./- y
}
run_case "-- ends the options; '-' is a file name" t_file_named_dash

t_streaming() {
  echo old >f
  mkfifo fifo
  "$aw" f <fifo &
  local pid=$!
  exec 3>fifo
  head -c 8000000 /dev/zero >&3
  # The input is still open: all but the last piece (the writer keeps up to 64 KiB in
  # its buffer) is in the temporary file already, not in memory, and the target has not
  # changed.
  wait_until eval '[ "$(temp_size $pid "$(pwd -P)")" -ge $((8000000 - 65536)) ]' ||
    fail "only $(temp_size $pid "$(pwd -P)") bytes on disk"
  expect_content f old
  head -c 1000 /dev/zero >&3
  exec 3>&-
  wait $pid; expect_status 0 $?
  [ "$(stat -c %s f)" = 8001000 ] || fail "f has $(stat -c %s f) bytes"
}
run_case "the input is streamed to disk while it arrives; the target changes only at the end" t_streaming

# --- errors: the target stays as it was ----------------------------------------------
t_missing_directory() {
  echo new | "$aw" no/such/f 2>err; expect_status 1 $?
  expect_message err "atomic-write: no/such/f: open directory 'no/such': No such file or directory (file not changed)"
  expect_names . "err "
}
run_case "a missing directory: status 1, the step and path named" t_missing_directory

t_target_is_directory() {
  mkdir d
  echo new | "$aw" d 2>err; expect_status 1 $?
  expect_message err "atomic-write: d:" "Is a directory"
  [ -d d ] && expect_names d ""
}
run_case "a directory as the target: status 1, nothing changed" t_target_is_directory

t_read_error() {
  echo old >f
  mkdir d
  "$aw" f <d 2>err; expect_status 4 $?
  expect_message err "atomic-write: f: read standard input: Is a directory (file not changed)"
  expect_content f old
  "$aw" f <&- 2>err; expect_status 4 $?
  expect_message err "read standard input: Bad file descriptor"
  expect_content f old
  expect_names . "d err f "
}
run_case "a read error on standard input: status 4, the old file kept" t_read_error

t_write_error_efbig() {
  echo old >f
  # A file size limit of 64 KiB: write(2) fails with EFBIG (SIGXFSZ ignored by the
  # command) part way through the input.
  (ulimit -f 64 && head -c 1000000 /dev/zero | "$aw" f) 2>err
  expect_status 1 $?
  expect_message err "atomic-write: f: write temporary file: File too large (file not changed)"
  expect_content f old
  expect_names . "err f "
}
run_case "a write error part way (EFBIG from the file size limit): status 1, the old file kept" t_write_error_efbig

t_no_space() {
  is_root || skip "needs root to mount a small tmpfs"
  mkdir small
  mount -t tmpfs -o size=256k tmpfs small || skip "cannot mount tmpfs"
  echo old >small/f
  head -c 1000000 /dev/zero | "$aw" small/f 2>err; expect_status 1 $?
  expect_message err "atomic-write: small/f: write temporary file: No space left on device (file not changed)"
  expect_content small/f old
  expect_names small "f "
  mount -o remount,ro small || skip "cannot remount read-only"
  echo new | "$aw" small/f 2>err; expect_status 1 $?
  expect_message err "atomic-write: small/f: create temporary file: Read-only file system (file not changed)"
  expect_content small/f old
}
run_case "a full filesystem (ENOSPC) and a read-only one (EROFS): status 1, the old file kept" t_no_space

t_no_permission() {
  is_root && skip "root may write into any directory"
  mkdir ro
  echo old >ro/f
  chmod 555 ro
  echo new | "$aw" ro/f 2>err; expect_status 1 $?
  expect_message err "atomic-write: ro/f: create temporary file: Permission denied (file not changed)"
  expect_content ro/f old
}
run_case "a directory without write permission: status 1, the old file kept" t_no_permission

# --- being stopped -------------------------------------------------------------------
# stopped_case SIGNAL STATUS: starts a write from a FIFO, sends half the input, kills
# atomic-write with SIGNAL, and checks that the target and the directory are unchanged.
stopped_case() {
  echo old >f
  mkfifo fifo
  "$aw" f <fifo 2>err &
  local pid=$!
  exec 3>fifo
  head -c 300000 /dev/zero >&3
  wait_until eval '[ "$(temp_size $pid "$(pwd -P)")" -ge 200000 ]' || fail "the write did not start"
  local unnamed=no
  temp_is_unnamed $pid && unnamed=yes
  kill -s "$1" $pid
  wait $pid; expect_status "$2" $?
  exec 3>&-
  expect_content f old
  if [ "$1" != KILL ] || [ $unnamed = yes ]; then
    expect_names . "err f fifo "
  else
    # Without O_TMPFILE, SIGKILL leaves the named temporary file (documented).
    names . | grep -qE '(^| )\.f\.[A-Za-z0-9_-]{8}\.tmp ' || fail "no temporary file named as documented: $(names .)"
  fi
}
t_sigterm() { stopped_case TERM 143; }
t_sighup() { stopped_case HUP 129; }
t_sigkill() { stopped_case KILL 137; }
run_case "SIGTERM mid-stream: dies by the signal, old file kept, no temporary file left" t_sigterm
run_case "SIGHUP mid-stream: dies by the signal, old file kept, no temporary file left" t_sighup
run_case "SIGKILL mid-stream: old file kept (no temporary file where O_TMPFILE works)" t_sigkill

# --- COMMAND -------------------------------------------------------------------------
t_command_success() {
  echo old >f
  "$aw" f printf 'from %s\n' command; expect_status 0 $?
  expect_content f "from command"
  echo "piped in" | "$aw" f cat; expect_status 0 $?
  expect_content f "piped in"
  "$aw" -m 600 f -- sh -c 'echo "$1"' sh --not-an-option; expect_status 0 $?
  expect_content f "--not-an-option"
  [ "$(mode_of f)" = 600 ] || fail "mode $(mode_of f)"
  expect_names . "f "
}
run_case "COMMAND's output replaces the file; COMMAND reads atomic-write's standard input" t_command_success

t_command_fails() {
  echo old >f
  "$aw" f sh -c 'echo partial; exit 3' 2>err; expect_status 4 $?
  expect_message err "atomic-write: f: run command 'sh': it exited with status 3 (file not changed)"
  expect_content f old
  "$aw" f sh -c 'echo partial; kill -9 $$' 2>err; expect_status 4 $?
  expect_message err "run command 'sh': it was killed by signal 9"
  expect_content f old
  expect_names . "err f "
}
run_case "a COMMAND that fails or is killed after writing: status 4, the old file kept" t_command_fails

t_command_not_run() {
  echo old >f
  "$aw" f no-such-command-here 2>err; expect_status 127 $?
  expect_message err "run command 'no-such-command-here': No such file or directory (file not changed)"
  printf 'echo hi\n' >not-executable
  "$aw" f ./not-executable 2>err; expect_status 126 $?
  expect_message err "Permission denied"
  expect_content f old
  echo new | "$aw" -n f true 2>err; expect_status 3 $?
  expect_content f old
  expect_names . "err f not-executable "
}
run_case "a COMMAND not found (127) or not executable (126); --no-clobber fails before running it" t_command_not_run

t_command_signals() {
  # SigIgn in /proc/PID/status: the ignored signals, bit N-1 for signal N.
  (trap '' INT && exec "$aw" f sh -c 'sed -n "s/^SigIgn:[[:space:]]*//p" /proc/$$/status'); expect_status 0 $?
  local ignored=$((16#$(cat f)))
  [ $((ignored >> 1 & 1)) -eq 1 ] || fail "SIGINT, ignored by the caller, is not ignored in COMMAND (SigIgn $(cat f))"
  [ $((ignored >> 24 & 1)) -eq 0 ] || fail "SIGXFSZ, ignored by atomic-write only, is ignored in COMMAND"
}
run_case "COMMAND keeps the caller's ignored signals, not atomic-write's own SIGXFSZ" t_command_signals

t_command_stopped() {
  echo old >f
  "$aw" f sh -c 'echo $$ >child.pid; echo partial; exec sleep 60' 2>err &
  local pid=$!
  wait_until test -s child.pid || fail "COMMAND did not start"
  local child
  child=$(cat child.pid)
  kill -TERM $pid
  wait $pid; expect_status 143 $?
  wait_until eval '! kill -0 "$child" 2>/dev/null' || fail "COMMAND ($child) still runs"
  expect_content f old
  expect_names . "child.pid err f "
}
run_case "SIGTERM while COMMAND runs: passed on to COMMAND, old file kept" t_command_stopped

t_link() {
  mkdir v1 v2
  echo one >v1/index; echo two >v2/index
  "$aw" --link v1 current; expect_status 0 $?
  [ "$(readlink current)" = v1 ] || fail "current -> $(readlink current), expected v1"
  "$aw" --link v2 current; expect_status 0 $?
  expect_content current/index two
  "$aw" -n --link v1 current 2>err; expect_status 3 $?
  expect_message err "current: --no-clobber: File exists (file not changed)"
  [ "$(readlink current)" = v2 ] || fail "-n changed the link"
  "$aw" --link v1 v2 2>err; expect_status 1 $?
  expect_message err "v2: rename link into place: Is a directory (file not changed)"
  expect_names . "current err v1 v2 "
}
run_case "--link makes and replaces a link, refuses with -n, never a directory" t_link

t_tree() {
  mkdir -p build/css
  echo one >build/index.html; echo 'p {}' >build/css/a.css
  printf '#!/bin/sh\necho hi\n' >build/run; chmod 750 build/run
  "$aw" --tree build site; expect_status 0 $?
  [ "$(readlink site)" = .site.v1 ] || fail "site -> $(readlink site), expected .site.v1"
  expect_content site/index.html one
  expect_content site/css/a.css 'p {}'
  [ "$(stat -c %a site/run)" = 750 ] || fail "site/run has mode $(stat -c %a site/run), expected 750"
  echo two >build/index.html
  "$aw" --tree --keep=0 build site; expect_status 0 $?
  expect_content site/index.html two
  expect_names . ".site.v2 build site "
  "$aw" -m 600 --tree build site; expect_status 0 $?
  [ "$(stat -c %a site/index.html)" = 600 ] || fail "-m 600 gave mode $(stat -c %a site/index.html)"
  # A link in DIR: nothing is published, the half-built version is removed.
  ln -s index.html build/alias
  "$aw" --tree build site 2>err; expect_status 4 $?
  expect_message err "build/alias: a symbolic link (--tree copies regular files and directories) (site not changed)"
  [ "$(readlink site)" = .site.v3 ] || fail "a failed copy moved site to $(readlink site)"
  expect_names . ".site.v2 .site.v3 build err site "
  # Over a real directory or a file: refused, nothing changed.
  rm build/alias; mkdir real
  "$aw" --tree build real 2>err; expect_status 1 $?
  expect_message err "real: look at the stable name (not a symbolic link" "(file not changed)"
  expect_names . ".site.v2 .site.v3 build err real site "
}
run_case "--tree publishes a copy of a directory at a name, keeps modes, refuses links in it" t_tree

t_expect_unchanged() {
  echo old >f
  echo new | "$aw" --expect-unchanged f; expect_status 0 $?
  expect_content f new
  # COMMAND itself replaces FILE while it produces the input: a change.
  "$aw" --expect-unchanged f sh -c 'echo other >g && mv g f && echo mine' 2>err; expect_status 6 $?
  expect_content f other
  expect_message err "f: --expect-unchanged: FILE changed while the input was read (file not changed)"
  # A file that appears where there was none is a change too; none that stays none is not.
  "$aw" --expect-unchanged h sh -c 'echo theirs >h && echo mine' 2>err; expect_status 6 $?
  expect_content h theirs
  echo created | "$aw" --expect-unchanged i; expect_status 0 $?
  expect_content i created
  expect_names . ".f.lock err f h i "
}
run_case "--expect-unchanged: status 6 and the other writer's file when FILE changed meanwhile" t_expect_unchanged

t_lock() {
  echo 0 >f
  "$aw" --lock f sh -c 'touch started; sleep 1; echo first' &
  local first=$! start end
  wait_until test -e started || fail "the first writer did not start"
  start=$(date +%s%N)
  echo second | "$aw" --lock f; expect_status 0 $?
  end=$(date +%s%N)
  # The second waited for the first (which sleeps a second), whose commit came first.
  [ $(((end - start) / 1000000)) -ge 500 ] || fail "the second writer did not wait for the lock"
  wait $first; expect_status 0 $?
  expect_content f second
  # Without --lock nothing waits: the lock is cooperative.
  rm -f started
  "$aw" --lock f sh -c 'touch started; sleep 3; echo third' &
  first=$!
  wait_until test -e started || fail "the locked writer did not start"
  echo unlocked | "$aw" f; expect_status 0 $?
  expect_content f unlocked
  kill -0 $first 2>/dev/null || fail "a writer without --lock waited"
  wait $first
  expect_content f third
  # A killed holder releases the lock with its death.
  "$aw" --lock f sh -c 'echo $$ >holder.pid; exec sleep 30 2>/dev/null' &
  first=$!
  wait_until test -s holder.pid || fail "the holder did not start"
  kill -KILL $first
  wait $first 2>/dev/null
  echo after | timeout 10 "$aw" --lock f; local status=$?
  kill "$(cat holder.pid)" 2>/dev/null
  expect_status 0 $status
  expect_content f after
}
run_case "--lock: a second locked writer waits for the first; an unlocked one does not; SIGKILL frees it" t_lock

t_progress() {
  # A producer slower than the one-second interval: at least one line while writing.
  (head -c 3000000 /dev/zero; sleep 1.2; head -c 1000000 /dev/zero) | "$aw" --progress f 2>err
  expect_status 0 $?
  [ "$(stat -c %s f)" -eq 4000000 ] || fail "f has $(stat -c %s f) bytes, expected 4000000"
  grep -qE '^atomic-write: f: [0-9.]+ MiB written, [0-9.]+ [KMG]?i?B/s$' err || fail "no line while writing: $(cat err)"
  expect_message err "atomic-write: f: 3.81 MiB written in " "; syncing" ", synced in "
  [ "$(grep -c . err)" -ge 3 ] || fail "expected a line while writing and two at the end: $(cat err)"
  if command -v script >/dev/null; then
    # On a terminal: one line rewritten in place, ended once.
    script -qec "head -c 100000 /dev/zero | '$aw' --progress g" /dev/null >tty </dev/null
    expect_status 0 $?
    grep -q $'\r'"atomic-write: g: 97.7 KiB written in .*, synced in .*"$'\e\\[K' tty || fail "no line rewritten in place: $(cat -v tty)"
  fi
}
run_case "--progress: a line while writing, then the time of the writing and of the sync" t_progress

echo "1..$n"
[ $failed -eq 0 ]
