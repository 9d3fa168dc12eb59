#!/bin/sh
# SPDX-License-Identifier: MIT
# The benchmark's smoke run ends with the summary scripts/bench prints: bench_policies,
# bench_target, bench_batch and bench_edit run their smoke sets, write their JSON and tables, the chart is drawn where
# gnuplot is installed, and bench/summary.awk reads the JSON. The summary must fit a
# person's screen (at most 12 lines of at most 100 columns), show the figures, and say
# where the JSON and the chart went.
# Usage: check-summary.sh RESULTS_DIR SUMMARY_AWK CHART_GP POLICIES_EXE POLICIES_FILTER \
#                         TARGET_EXE TARGET_FILTER BATCH_EXE BATCH_FILTER BATCH_CHART_AWK \
#                         EDIT_EXE EDIT_FILTER EDIT_CHART_AWK
# RESULTS_DIR is best relative, as scripts/bench's build/bench-results is: the summary
# prints it, and its width counts.
set -eu
results=$1 summary=$2 chart_gp=$3
rm -rf "$results"
mkdir -p "$results"
run() {  # NAME EXE FILTER [OPTION]
  case $2 in */*) exe=$2 ;; *) exe=./$2 ;; esac  # a program in the current directory
  if ! "$exe" --dir="$results" --benchmark_filter="$3" --benchmark_min_time=0.001 ${4:+"$4"} \
    --benchmark_out="$results/$1.json" --benchmark_out_format=json >"$results/$1.txt" 2>&1; then
    cat "$results/$1.txt"
    echo "FAILED: $2 did not run"
    exit 1
  fi
}
run policies "$4" "$5" --chart-data="$results/policies.tsv"
run target "$6" "$7"
run batch "$8" "$9"
run edit "${11}" "${12}"

# The batch's panel of the chart: one block per group policy, write_file and (a).
batch_blocks=0
if awk -f "${10}" "$results/batch.json" >"$results/batch.tsv"; then
  batch_blocks=$(grep -c '^"' "$results/batch.tsv")
fi
# The edit's panel: atomic_edit, the rewrite, (a), and the read/write copy where there is
# no clone.
edit_blocks=0
if awk -f "${13}" "$results/edit.json" >"$results/edit.tsv"; then
  edit_blocks=$(grep -c '^"' "$results/edit.tsv")
fi
png=$results/policies.png
if command -v gnuplot >/dev/null &&
  gnuplot -e "data='$results/policies.tsv'; batch='$results/batch.tsv'; edit='$results/edit.tsv'; out='$png'" "$chart_gp" 2>/dev/null &&
  [ -s "$png" ]; then
  chart="chart=$png"
else
  png=
  chart="no_chart=gnuplot is not installed"
fi
awk -f "$summary" -v results="$results" -v names="policies target batch edit" -v tables=1 \
  -v "$chart" "$results/policies.json" "$results/target.json" "$results/batch.json" "$results/edit.json" \
  >"$results/summary.txt"
cat "$results/summary.txt"
echo

failures=0
check() {  # WHAT COMMAND...
  what=$1
  shift
  if "$@"; then
    echo "ok: $what"
  else
    echo "FAILED: $what"
    failures=$((failures + 1))
  fi
}
lines=$(wc -l <"$results/summary.txt")
width=$(awk '{ if (length($0) > w) w = length($0) } END { print w + 0 }' "$results/summary.txt")
check "at most 12 lines ($lines)" test "$lines" -le 12
check "at most 100 columns ($width)" test "$width" -le 100
check "plain ASCII, so that a byte is a column" sh -c '! LC_ALL=C grep -q "[^ -~]" "$1"' - "$results/summary.txt"
check "a row for each sync policy of the smoke set" \
  sh -c 'grep -q "^  sync::none " "$1" && grep -q "^  sync::fdatasync " "$1" && grep -q "^  sync::fsync " "$1"' \
  - "$results/summary.txt"
check "the batch panel has the default batch, write_file and (a) ($batch_blocks)" test "$batch_blocks" -eq 3
check "the edit panel has atomic_edit, the rewrite and (a) ($edit_blocks)" test "$edit_blocks" -ge 3
check "no figure is missing" sh -c '! grep -qF "?" "$1"' - "$results/summary.txt"
check "the default write_file against the peers" grep -q '^Default write_file [0-9]' "$results/summary.txt"
check "the default batch against (a) and write_file" grep -q '^Batch of 10 x 4 KiB: ' "$results/summary.txt"
check "an edit of a big file against a rewrite and (a)" grep -q '^Edit of 4 KiB in 1 MiB: ' "$results/summary.txt"
check "names the JSON files" grep -qF "JSON:        $results/{policies,target,batch,edit}.json" "$results/summary.txt"
check "names the full tables" grep -qF "Full tables: $results/{policies,target,batch,edit}.txt" "$results/summary.txt"
if [ -n "$png" ]; then
  check "names the chart" grep -qF "Chart:       $png" "$results/summary.txt"
else
  check "says why there is no chart" grep -q '^Chart: *not drawn (' "$results/summary.txt"
fi
[ "$failures" -eq 0 ]
