#!/bin/sh
# Seeds the fuzz corpus and writes the dictionary for tests/fuzz/fuzz-recipe.
#   tests/fuzz/seed.sh CORPUS_DIR DICT
# Seeds: every recipe of the tree (recipes/, tests/e2e/recipes/, the
# fixtures' projects), one file each, plus one seed per project with its
# recipe files joined by NUL bytes (the harness splits there, so bases and
# VMs in different files still resolve).  Seeds are named by content
# hash, so re-seeding adds nothing twice.  The dictionary is
# tests/fuzz/recipe.dict (YAML syntax) plus every schema key and enum
# value found in builder/recipe*.c and
# builder/schema*.c, so it follows the schema as it changes.
# Run from the top of the tree.
set -eu
corpus=$1 dict=$2
mkdir -p "$corpus"

add() { # add FILE: copy FILE into the corpus under its hash
	h=$(sha1sum <"$1" | cut -d' ' -f1)
	[ -e "$corpus/$h" ] || cp "$1" "$corpus/$h"
}

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
n=0
for rdir in recipes tests/e2e/recipes $(find tests/fixtures -type d -name recipes | sort); do
	set -- "$rdir"/*.yaml
	[ -e "$1" ] || continue
	: >"$tmp"
	first=1
	for f in "$@"; do
		add "$f"
		n=$((n + 1))
		[ "$first" = 1 ] || printf '\0' >>"$tmp"
		first=0
		cat "$f" >>"$tmp"
	done
	[ $# -gt 1 ] && add "$tmp"
done
# Fixture YAML not under a recipes/ directory, saved fuzz crashers too.
for f in $(find tests/fixtures -name '*.yaml' ! -path '*/recipes/*' | sort); do
	add "$f"
	n=$((n + 1))
done

schema=$(ls builder/recipe*.c builder/schema*.c)
{
	cat tests/fuzz/recipe.dict
	echo '# schema keys and enum values, from the schema'
	grep -ho '\.key = "[^"]*"' $schema | sed 's/^\.key = //'
	# static const char *const distros[] = {"fedora", "debian", NULL};
	# (libFuzzer refuses an empty entry: "" is left out)
	grep -h 'static const char \*const [a-z_]*\[\] = {' $schema |
		grep -o '"[^"]*"'
} | grep -vx '""' | awk '!seen[$0]++' >"$dict"
echo "seed: $n recipe files, $(ls "$corpus" | wc -l) inputs in $corpus, $(grep -c '^"' "$dict") dictionary entries"
