# SPDX-License-Identifier: MIT
# The summary scripts/bench ends with: what durability costs on the filesystem measured,
# per sync policy, against the hand-written sequence and the other libraries, and what a
# batch of many files saves, and what an edit of a big file costs, in at most
# 12 lines of at most 100 columns, and where the full tables, the JSON and the chart are.
# Read from the JSON files the benchmark programs write (Google Benchmark's format, one
# key per line), so the summary holds the figures the files hold.
#
# Usage: awk -f bench/summary.awk -v results=DIR -v names="raw policies target" \
#            [-v chart=PNG | -v no_chart=REASON] [-v tables=1] DIR/*.json
#   results   the directory of the files, as the user should read it
#   names     the base names of the files written there (<name>.json, <name>.txt)
#   chart     the chart drawn, or no_chart: why there is none
#   tables    1 when the console tables were kept as <name>.txt
# Plain ASCII, so that a byte is a column. POSIX awk (Debian's mawk will do).

function value(line) {  # the value of a `"key": value,` line
    sub(/^[^:]*:[ \t]*/, "", line)
    sub(/,[ \t]*$/, "", line)
    gsub(/^"|"$/, "", line)
    return line
}

function duration(us) {
    if (us == "") return "?"
    if (us < 10) return sprintf("%.1f us", us)
    if (us < 1000) return sprintf("%.0f us", us)
    if (us < 10000) return sprintf("%.2f ms", us / 1000)
    if (us < 1000000) return sprintf("%.1f ms", us / 1000)
    return sprintf("%.2f s", us / 1000000)
}

function files(ext,    n, list, i, out) {  # results/{a,b}.ext
    n = split(names, list, " ")
    if (n == 1) return results "/" list[1] "." ext
    out = ""
    for (i = 1; i <= n; i++) out = out (i > 1 ? "," : "") list[i]
    return results "/{" out "}." ext
}

/^[ \t]*"(filesystem|directory|kernel)":/ {
    key = $0
    sub(/^[ \t]*"/, "", key)
    sub(/".*/, "", key)
    context[key] = value($0)
    next
}

/^[ \t]*"name":/ {
    name = value($0)
    next
}

# A counter of a benchmark that matters here: the 4 KiB replace of each sync policy with
# the default commit and temporary file, and the median of the contest's repetitions.
/^[ \t]*"[a-z_']+":[ \t]*[-0-9]/ {
    key = $0
    sub(/^[ \t]*"/, "", key)
    sub(/".*/, "", key)
    if (name ~ /^policy\/[a-z_]+\/automatic\/mkstemp\/replace\/bytes:4096\//) {
        split(name, part, "/")
        policy[part[2]] = 1
        if (key == "lib_us" || key == "raw_us" || key == "vs_raw") figure[part[2], key] = value($0) + 0
    } else if (name ~ /^target\/bytes:4096\/.*_median$/) {
        target[key] = value($0) + 0
    } else if (name ~ /^edit\/[^\/]+\/bytes:[0-9]+\// && name !~ /_(mean|stddev|cv)$/) {
        # The largest file edited (the median of repetitions, where there are some).
        split(name, part, "/")
        edit_size = substr(part[3], 7) + 0
        if (edit_size > edit_n || (edit_size == edit_n && name ~ /_median$/)) {
            if (edit_size > edit_n || !edit_median) delete edit
            edit_n = edit_size
            edit_median = name ~ /_median$/
        }
        if (edit_size == edit_n && (edit_median == (name ~ /_median$/))) edit[key] = value($0) + 0
    } else if (name ~ /^batch\/automatic\/files:[0-9]+\//) {
        # The default batch with the most files measured.
        split(name, part, "/")
        files_n = substr(part[3], 7) + 0
        if (files_n >= batch_n) {
            batch_n = files_n
            batch[key] = value($0) + 0
        }
    }
}

END {
    fs_name = ("filesystem" in context) ? context["filesystem"] : "this filesystem"
    where = context["directory"]
    sub(/\/[^\/]*$/, "", where)  # the directory the fresh one was made in
    here = ENVIRON["PWD"]
    if (here != "" && index(where, here "/") == 1) where = substr(where, length(here) + 2)
    title = "Replacing a 4 KiB file on " fs_name " (in " where "), median time per write:"
    if (where == "" || length(title) > 100) title = "Replacing a 4 KiB file on " fs_name ", median time per write:"
    print title
    default_sync = "fsync"
    if (context["kernel"] ~ /^Darwin/) default_sync = "full_fsync"
    n = split("none fdatasync fsync full_fsync", order, " ")
    shown = 0
    for (i = 1; i <= n; i++) {
        p = order[i]
        if (!(p in policy)) continue
        if (shown++ == 0)
            printf "  %-26s %10s %10s %9s %15s\n", "write_file with", "library", "by hand", "vs hand",
                "vs sync::none"
        label = "sync::" p (p == default_sync ? " (default)" : "")
        cost = "-"
        if (("none" in policy) && figure["none", "lib_us"] > 0)
            cost = sprintf(figure[p, "lib_us"] >= 100 * figure["none", "lib_us"] ? "%.0fx" : "%.1fx",
                           figure[p, "lib_us"] / figure["none", "lib_us"])
        printf "  %-26s %10s %10s %9.2f %15s\n", label, duration(figure[p, "lib_us"]),
            duration(figure[p, "raw_us"]), figure[p, "vs_raw"], cost
    }
    if (shown == 0) print "  (no policy figures: scripts/bench policies)"
    if (("default_us" in target) && target["default_us"] > 0) {
        line = "Default write_file " duration(target["default_us"])
        # The ratios of the medians shown, so that the line reads consistently (the
        # JSON's default_vs_* are medians of the repetitions' ratios, close but not equal).
        if ("glib_us" in target)
            line = line sprintf("; GLib g_file_set_contents %s (%.2f)", duration(target["glib_us"]),
                                target["glib_us"] / target["default_us"])
        if ("qt_us" in target)
            line = line sprintf("; Qt QSaveFile %s (%.2f)", duration(target["qt_us"]),
                                target["qt_us"] / target["default_us"])
        if (!("glib_us" in target) && !("qt_us" in target)) line = line "; no other library built in"
        print line
    }
    if (batch_n > 0 && ("batch_us" in batch))
        printf "Batch of %d x 4 KiB: %s a file; %.2fx as fast as (a) by hand, %.2fx as write_file\n",
            batch_n, duration(batch["batch_us"]), batch["vs_raw"], batch["vs_single"]
    if (edit_n > 0 && ("edit_us" in edit))
        printf "Edit of 4 KiB in %s: %s; %.1fx as fast as a rewrite, %.2fx as (a) by hand\n",
            (edit_n >= 1073741824 ? (edit_n / 1073741824) " GiB" : (edit_n / 1048576) " MiB"),
            duration(edit["edit_us"]), edit["vs_rewrite"], edit["vs_raw"]
    if (shown > 0 || ("default_us" in target))
        print "  vs hand, (GLib), (Qt): their time / the library's; 1.00 = as fast, above 1 = library faster"
    if (tables == 1) print "Full tables: " files("txt")
    print "JSON:        " files("json")
    if (chart != "")
        print "Chart:       " chart " (every policy, by size)"
    else if (no_chart != "")
        print "Chart:       not drawn (" no_chart ")"
}
