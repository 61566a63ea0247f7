#!/bin/sh
# Benchmark (prints figures; not a timed test): push of two fake images
# (BENCH_MIB MiB of random data each, default 200; no VM boots) to a
# registry on 127.0.0.1 (tests/lib/registry.sh), then a push after one of
# them changed: the time, the blobs and the bytes uploaded of each.
set -u
cd "$(dirname "$0")/../.." || exit 1
SKIP_NAME=bench-push
. tests/lib/skip.sh
. tests/lib/registry.sh
need skopeo qemu-img bc
make -s sbx-build || exit 1
MIB=${BENCH_MIB:-200}
W=$PWD/tests/work/bench-push
P=$W/proj
rm -rf "$W" && mkdir -p "$P/out" || exit 1
trap registry_stop EXIT
registry_start "$W/reg" auth || exit 1
export XDG_CACHE_HOME="$W/xdg"

fake_image() { # NAME
	dd if=/dev/urandom of="$W/raw" bs=1M count="$MIB" status=none
	qemu-img convert -q -f raw -O qcow2 "$W/raw" "$P/out/$1.qcow2"
	printf '#!/bin/sh\n' >"$P/out/run-$1.sh"
}
# push TAG: prints "SECONDS BLOBS BYTES CONVERT" for the blobs it
# uploaded; CONVERT is the seconds pack spent in qemu-img convert -c.
push() {
	before=$(registry_uploaded | wc -l)
	s=$(date +%s.%N)
	./sbx-build -C "$P" push "$REGISTRY/bench/sbx:$1" >/dev/null \
		2>"$W/push-$1.log" || { cat "$W/push-$1.log"; exit 1; }
	e=$(date +%s.%N)
	bytes=0
	n=0
	for d in $(registry_uploaded | sed "1,${before}d"); do
		bytes=$((bytes + $(stat -c %s "$(registry_blob "$d")")))
		n=$((n + 1))
	done
	conv=$(sed -n 's/.*converting .* in \([0-9.]*\) s .*/\1/p' \
		"$W/push-$1.log" | paste -sd+ | bc)
	echo "$(echo "$e - $s" | bc) $n $bytes ${conv:-?}"
}
fake_image dev
fake_image proxy
first=$(push v1)
fake_image dev
one=$(push v2)
echo "images: dev and proxy, ${MIB} MiB of random data each"
echo "                          seconds, blobs, bytes uploaded, seconds converting"
echo "first push:               $first"
echo "after a one-VM change:    $one"
