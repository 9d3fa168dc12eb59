# SPDX-License-Identifier: MIT
# Turns a bench_edit JSON file into the table bench/chart.gp draws its edit panel from:
# one block per contender (atomic_edit, write_file of the whole file, the hand-written
# edit (a), and atomic_edit with its copy made by reads and writes where it was
# measured), each row the file's size in MiB and the median time of one 4 KiB edit in
# milliseconds. With repetitions, the median of the repetitions is used.
#
# Usage: awk -f bench/edit_chart.awk DIR/edit.json > DIR/edit.tsv
# POSIX awk (Debian's mawk will do).

function value(line) {  # the value of a `"key": value,` line
    sub(/^[^:]*:[ \t]*/, "", line)
    sub(/,[ \t]*$/, "", line)
    gsub(/^"|"$/, "", line)
    return line
}

function keep(    parts, size, c) {
    if (name !~ /^edit\//) return
    if (run_type == "aggregate" && aggregate != "median") return
    if (run_type != "aggregate" && repeated) return
    split(name, parts, "/")
    size = parts[3]
    sub(/^bytes:/, "", size)
    size = size / 1048576
    sizes[size] = 1
    for (c = 1; c <= contenders; c++)
        if (us[c] != "") time[c, size] = us[c] / 1000
}

BEGIN {
    contenders = split("edit_us rewrite_us raw_us rw_us", counter, " ")
    label[1] = "atomic_edit"
    label[2] = "write_file (whole file)"
    label[3] = "(a) by hand"
    label[4] = "atomic_edit, read/write copy"
}

/^[ \t]*{[ \t]*$/ { name = ""; run_type = ""; aggregate = ""; repeated = 0; for (c = 1; c <= contenders; c++) us[c] = "" }
/"name":/ { name = value($0) }
/"run_type":/ { run_type = value($0) }
/"aggregate_name":/ { aggregate = value($0) }
/"repetitions":/ { repeated = value($0) > 1 }
/"[a-z_]+_us":/ {
    for (c = 1; c <= contenders; c++)
        if ($0 ~ "\"" counter[c] "\":") us[c] = value($0)
}
/^[ \t]*}/ { if (name != "") keep(); name = "" }

END {
    n = 0
    for (s in sizes) list[++n] = s + 0
    if (n == 0) exit 1
    for (i = 2; i <= n; i++)  # sizes in increasing order (insertion sort: a few sizes)
        for (j = i; j > 1 && list[j - 1] > list[j]; j--) {
            t = list[j]; list[j] = list[j - 1]; list[j - 1] = t
        }
    blocks = 0
    for (c = 1; c <= contenders; c++) {
        rows = ""
        for (i = 1; i <= n; i++)
            if ((c, list[i]) in time) rows = rows sprintf("%g\t%s\n", list[i], time[c, list[i]])
        if (rows == "") continue
        if (blocks++ > 0) printf "\n\n"
        printf "\"%s\"\tms_per_edit\n%s", label[c], rows
    }
}
