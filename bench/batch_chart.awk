# SPDX-License-Identifier: MIT
# Turns a bench_batch JSON file into the table bench/chart.gp draws its per-file panel
# from: one block per contender (each group policy, write_file() one at a time, and the
# hand-written sequence (a)), each row the number of files and the time per file in
# microseconds. write_file() and (a) are taken from the runs of the default batch
# (group::automatic), which alternate with them. With repetitions, the median is used.
#
# Usage: awk -f bench/batch_chart.awk DIR/batch.json > DIR/batch.tsv
# POSIX awk (Debian's mawk will do).

function value(line) {  # the value of a `"key": value,` line
    sub(/^[^:]*:[ \t]*/, "", line)
    sub(/,[ \t]*$/, "", line)
    gsub(/^"|"$/, "", line)
    return line
}

function keep(    group, n, parts) {
    if (name !~ /^batch\//) return
    if (run_type == "aggregate" && aggregate != "median") return
    if (run_type != "aggregate" && repeated) return
    split(name, parts, "/")
    group = parts[2]
    n = parts[3]
    sub(/^files:/, "", n)
    n += 0
    if (!(group in seen)) {
        seen[group] = 1
        order[++groups] = group
    }
    time[group, n] = batch_us
    if (n > most) most = n
    ns[n] = 1
    if (group == "automatic") {
        time["write_file", n] = single_us
        time["(a) by hand", n] = raw_us
    }
}

/^[ \t]*{[ \t]*$/ { name = ""; run_type = ""; aggregate = ""; repeated = 0; batch_us = ""; single_us = ""; raw_us = "" }
/"name":/ { name = value($0) }
/"run_type":/ { run_type = value($0) }
/"aggregate_name":/ { aggregate = value($0) }
/"repetitions":/ { repeated = value($0) > 1 }
/"batch_us":/ { batch_us = value($0) }
/"single_us":/ { single_us = value($0) }
/"raw_us":/ { raw_us = value($0) }
/^[ \t]*}/ { if (name != "") keep(); name = "" }

END {
    if (groups == 0) exit 1
    order[++groups] = "write_file"
    order[++groups] = "(a) by hand"
    for (g = 1; g <= groups; g++) {
        if (g > 1) printf "\n\n"
        printf "\"%s\"\tus_per_file\n", order[g]
        for (n = 1; n <= most; n++)
            if ((n in ns) && ((order[g], n) in time) && time[order[g], n] != "")
                printf "%d\t%s\n", n, time[order[g], n]
    }
}
