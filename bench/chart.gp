# SPDX-License-Identifier: MIT
# Draws the chart of a bench_policies run from its --chart-data table:
#   gnuplot -e "data='policies.tsv'; out='policies.png'" bench/chart.gp
# Left: time per write by policy and size (log scale). Right: the library's speed
# relative to the hand-written sequence doing the same work (1.0 = as fast).
if (!exists("data")) data = 'policies.tsv'
if (!exists("out")) out = 'policies.png'

title = system(sprintf("head -n 1 '%s' | cut -c3-", data))
stats data using 2 nooutput
blocks = STATS_blocks

set terminal pngcairo size 1500,620 font "sans,10" noenhanced
set output out
set multiplot layout 1,2 title sprintf("atomicwrites: what each policy costs (replacing a file, %s)", title)
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
unset multiplot
