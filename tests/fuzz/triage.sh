#!/bin/sh
# Groups fuzz crashers by cause:
#   tests/fuzz/triage.sh FILE...   (after make build-asan/tests/fuzz-replay)
# Replays each file with the ASan+UBSan replay build and prints one line
# per distinct cause (first error line + the first two frames in builder/),
# with how many files share it and the smallest of them.  Run from the
# top of the tree.
set -u
bin=build-asan/tests/fuzz-replay
[ -x "$bin" ] || { echo "triage: build $bin first (make $bin)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in "$@"; do
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	LSAN_OPTIONS=suppressions=tests/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=tests/ubsan.supp \
		timeout 10 "$bin" "$f" >"$tmp/log" 2>&1
	st=$?
	if [ $st -eq 0 ]; then
		what="no crash"
	elif [ $st -eq 124 ]; then
		what="timeout (>10 s)"
	else
		err=$(grep -m1 -oE 'runtime error: .*|ERROR: (AddressSanitizer|LeakSanitizer): [A-Za-z-]+' "$tmp/log")
		frame=$(grep -E '^ *#[0-9]+ .* (/[^ ]*/)?builder/[a-z-]+\.c:[0-9]+' "$tmp/log" |
			grep -v -E ' in (xrealloc|xmalloc|xcalloc|xstrdup|xstrndup|xgrow|sb_vprintf|xasprintf) ' |
			head -2 | sed -E 's/.* in ([^ ]+) (\/[^ ]*\/)?(builder\/[^ :]+:[0-9]+).*/\1 \3/' |
			paste -sd '<' | sed 's/</ < /')
		loc=$(grep -m1 -oE '^builder/[a-z-]+\.c:[0-9]+' "$tmp/log")
		what="${err:-exit $st} | ${frame:-?} ${loc:+[$loc]}"
	fi
	printf '%s\t%s\t%s\n' "$what" "$(wc -c <"$f")" "$f" >>"$tmp/all"
done
[ -s "$tmp/all" ] || exit 0
sort -t '	' -k1,1 -k2,2n "$tmp/all" | awk -F '\t' '
	$1 != last { if (last != "") printf "%3d  %s\n     e.g. %s (%d bytes)\n", n, last, ex, sz; last = $1; n = 0; ex = $3; sz = $2 }
	{ n++ }
	END { if (last != "") printf "%3d  %s\n     e.g. %s (%d bytes)\n", n, last, ex, sz }'
