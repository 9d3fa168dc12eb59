# SPDX-License-Identifier: MIT
# Draws the chart of a bench_policies run from its --chart-data table:
#   gnuplot -e "data='policies.tsv'; out='policies.png'" bench/chart.gp
# and, given a bench_batch run turned into a table by bench/batch_chart.awk, a third panel:
#   gnuplot -e "data='policies.tsv'; batch='batch.tsv'; out='policies.png'" bench/chart.gp
# and, given a bench_edit run turned into a table by bench/edit_chart.awk, one more:
#   gnuplot -e "data='policies.tsv'; edit='edit.tsv'; out='policies.png'" bench/chart.gp
# Left: time per write by policy and size (log scale). Middle: the library's speed
# relative to the hand-written sequence doing the same work (1.0 = as fast). Right: the
# time per file of a batch of N files by group policy, against N write_file() calls and
# N hand-written sequences (log-log: a line that falls is a flush shared). Last: the time
# of a 4 KiB edit by file size, atomic_edit against rewriting the whole file and the
# edit by hand (log-log: a flat line is an edit that costs the change, not the file).
if (!exists("data")) data = 'policies.tsv'
if (!exists("out")) out = 'policies.png'
has_batch = exists("batch")
has_edit = exists("edit")
panels = 2 + has_batch + has_edit

title = system(sprintf("head -n 1 '%s' | cut -c3-", data))
stats data using 2 nooutput
blocks = STATS_blocks

set terminal pngcairo size 750 * panels - 50 * (panels - 2),620 font "sans,10" noenhanced
set output out
set multiplot layout 1,panels title sprintf("atomicwrites: what each policy costs (replacing a file, %s)", title)
set key outside bottom center horizontal maxrows 3 noenhanced
set grid ytics
set xlabel "bytes written"

set title "median time per write"
set logscale y
set ylabel "microseconds (log scale)"
plot for [i=0:blocks-1] data index i using 0:2:xtic(1) with linespoints lw 2 pt 7 title columnheader(1)

set title "speed relative to the same system calls written by hand"
unset logscale y
set ylabel "hand-written time / library time"
set yrange [0.5<*:*<1.5]
plot for [i=0:blocks-1] data index i using 0:4:xtic(1) with linespoints lw 2 pt 7 title columnheader(1), \
     1 with lines dt 2 lc "black" title "hand-written"

if (has_batch) {
    stats batch using 2 nooutput
    batch_blocks = STATS_blocks
    set title "a batch of N files of 4 KiB: time per file"
    set xlabel "files in the batch (log scale)"
    set ylabel "microseconds per file (log scale)"
    set logscale xy
    set autoscale y
    unset xtics
    set xtics (1, 10, 100, 1000)
    plot for [i=0:batch_blocks-1] batch index i using 1:2 with linespoints lw 2 pt 7 title columnheader(1)
}
if (has_edit) {
    stats edit using 2 nooutput
    edit_blocks = STATS_blocks
    set title "a 4 KiB edit in the middle of a file: time per edit"
    set xlabel "file size, MiB (log scale)"
    set ylabel "milliseconds (log scale)"
    set logscale xy
    set autoscale xy
    set yrange [*:*]
    unset xtics
    set xtics (1, 16, 256, 1024)
    plot for [i=0:edit_blocks-1] edit index i using 1:2 with linespoints lw 2 pt 7 title columnheader(1)
}
unset multiplot
