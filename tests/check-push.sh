#!/bin/sh
# push and pull against a real registry (distribution, with TLS and basic
# auth made here; tests/lib/registry.sh), with small fake images: the
# result is byte-identical to pack + unpack, an unchanged image is not
# uploaded again, a tampered blob (in the registry or in the cache) and a
# wrong signer are refused, a pull resumes from the blobs in the cache,
# and a digest already pulled costs no request.
set -eu
SKIP_NAME=check-push
. tests/lib/skip.sh
. tests/lib/registry.sh
need skopeo qemu-img ssh-keygen python3

SBX=${SBX:-$PWD/sbx-build}
tmp=$(mktemp -d)
cleanup() {
	st=$?
	registry_stop
	rm -rf "$tmp"
	exit "$st"
}
trap cleanup EXIT
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

registry_start "$tmp/reg" auth || skip "the registry did not start"
export XDG_CACHE_HOME="$tmp/cache"
CACHE=$XDG_CACHE_HOME/sbx-build/oci

# A project whose out/ holds two images: dev small, proxy over one chunk
# (64 MiB), so that it is cut in two.
P=$tmp/proj
mkdir -p "$P/out"
fake_image() { # NAME MIB
	dd if=/dev/urandom of="$tmp/raw" bs=1M count="$2" status=none
	qemu-img convert -q -f raw -O qcow2 "$tmp/raw" "$P/out/$1.qcow2"
	printf '#!/bin/sh\necho %s\n' "$1" >"$P/out/run-$1.sh"
	chmod 755 "$P/out/run-$1.sh"
}
fake_image dev 2
fake_image proxy 66
printf 'version: 1\n' >"$P/sbx.lock"
ssh-keygen -q -t ed25519 -N '' -C tester -f "$tmp/key"
echo "tester@example.com namespaces=\"sbx-build\" $(cat "$tmp/key.pub")" \
	>"$tmp/signers"
ssh-keygen -q -t ed25519 -N '' -C other -f "$tmp/other"
echo "other@example.com namespaces=\"sbx-build\" $(cat "$tmp/other.pub")" \
	>"$tmp/other_signers"
R=$REGISTRY/team/sbx

# manifest REF: the layer titles and digests, "TITLE DIGEST" a line.
layers() {
	skopeo inspect --raw "docker://$1" | python3 -c '
import json, sys
for l in json.load(sys.stdin)["layers"]:
    print(l["annotations"]["org.opencontainers.image.title"], l["digest"])'
}

# --- push, pull, compare with pack + unpack --------------------------
"$SBX" -C "$P" push --sign "$tmp/key" "$R:v1" >"$tmp/d1" 2>"$tmp/err" ||
	fail "push: $(cat "$tmp/err")"
D1=$(cat "$tmp/d1")
echo "$D1" | grep -Eq '^sha256:[0-9a-f]{64}$' || fail "push printed '$D1'"
grep -q "push: Copying blob" "$tmp/err" || fail "push printed no progress"
grep -q "sbx-test-pw" "$tmp/err" && fail "push logged the password"
layers "$R:v1" >"$tmp/l1"
[ "$(grep -c '^proxy\.qcow2\.' "$tmp/l1")" = 2 ] ||
	fail "proxy.qcow2 is not in two chunks: $(cat "$tmp/l1")"
grep -q '^SHA256SUMS\.sig\.0 ' "$tmp/l1" || fail "no signature layer"

"$SBX" pull -C "$tmp/pulled" --allowed-signers "$tmp/signers" "$R:v1" \
	2>"$tmp/err" || fail "pull: $(cat "$tmp/err")"
grep -q "good signature from 'tester@example.com'" "$tmp/err" ||
	fail "pull did not report the signer"
grep -q "pull: Copying blob" "$tmp/err" || fail "pull printed no progress"
"$SBX" -q -C "$P" pack --sign "$tmp/key" -o "$tmp/b.tar.zst"
"$SBX" -q unpack -C "$tmp/unpacked" "$tmp/b.tar.zst" 2>/dev/null
diff -r -x .sbx-pulled -x .sbx-outputs "$tmp/pulled" "$tmp/unpacked" ||
	fail "pull differs from pack + unpack"
[ "$(head -n 1 "$tmp/pulled/.sbx-pulled")" = "$D1" ] ||
	fail "the pull is not recorded"
# 'clean' removes what the pull wrote, and the record with it.
grep -qx .sbx-pulled "$tmp/pulled/.sbx-outputs" ||
	fail "'clean' would not remove the record"
sort "$tmp/unpacked/.sbx-outputs" >"$tmp/o1"
grep -vx .sbx-pulled "$tmp/pulled/.sbx-outputs" | sort >"$tmp/o2"
cmp -s "$tmp/o1" "$tmp/o2" || fail "pull and unpack record different files"

# --- a digest already pulled: no request, at most 0.1 s --------------
# CPU time, not wall time, the least of five runs: on a loaded machine
# the start of any process takes longer (the least wall time is printed).
# Loading sbx-build's libraries alone can near 0.1 s of CPU there, so the
# pull may also cost no more than 'sbx-build --version' plus 20 ms.
n=$(wc -l <"$REGISTRY_LOG")
python3 - "$SBX" "$tmp/pulled" "$R@$D1" >"$tmp/time" 2>"$tmp/err" <<'PY' ||
import resource, subprocess, sys, time
def least(argv):
    walls, cpus = [], []
    for _ in range(5):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.monotonic() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return int(min(cpus) * 1000), int(min(walls) * 1000)
cpu, wall = least([sys.argv[1], "pull", "-C", sys.argv[2], sys.argv[3]])
base, _ = least([sys.argv[1], "--version"])
print(cpu, wall, base)
PY
	fail "second pull: $(cat "$tmp/err")"
grep -q "already holds $D1" "$tmp/err" || fail "second pull: $(cat "$tmp/err")"
read -r cpu wall base <"$tmp/time"
echo "check-push: a pull already done: ${cpu} ms CPU (--version: ${base} ms), ${wall} ms wall"
[ "$cpu" -le 100 ] || [ "$cpu" -le $((base + 20)) ] ||
	fail "a pull already done took $cpu ms of CPU"
[ "$(wc -l <"$REGISTRY_LOG")" = "$n" ] || fail "second pull asked the registry"
# A directory holding something else is refused.
"$SBX" pull -C "$tmp/unpacked" "$R:v1" 2>"$tmp/err" &&
	fail "pull into a non-empty directory"

# --- an unchanged push uploads nothing; a one-VM change only that VM --
up0=$(registry_uploaded | wc -l)
"$SBX" -C "$P" push --sign "$tmp/key" "$R:v2" >"$tmp/d2" 2>"$tmp/err" ||
	fail "push v2: $(cat "$tmp/err")"
[ "$(cat "$tmp/d2")" = "$D1" ] || fail "an unchanged push changed the digest"
[ "$(registry_uploaded | wc -l)" = "$up0" ] ||
	fail "an unchanged push uploaded $(registry_uploaded | sed "1,${up0}d")"
fake_image dev 3
"$SBX" -C "$P" push --sign "$tmp/key" "$R:v3" >"$tmp/d3" 2>"$tmp/err" ||
	fail "push v3: $(cat "$tmp/err")"
registry_uploaded | sed "1,${up0}d" >"$tmp/up3"
grep '^proxy\.qcow2\.' "$tmp/l1" | cut -d' ' -f2 >"$tmp/proxy"
while read -r d; do
	grep -qx "$d" "$tmp/up3" && fail "the unchanged proxy chunk $d was uploaded"
done <"$tmp/proxy"
layers "$R:v3" >"$tmp/l3"
grep -qx "$(grep '^dev\.qcow2\.0 ' "$tmp/l3" | cut -d' ' -f2)" "$tmp/up3" ||
	fail "the changed dev image was not uploaded"

# --- a wrong signer ---------------------------------------------------
"$SBX" pull -C "$tmp/wrong" --allowed-signers "$tmp/other_signers" \
	"$R@$D1" 2>"$tmp/err" && fail "pull with a wrong signer succeeded"
[ -e "$tmp/wrong" ] && fail "a refused pull left '$tmp/wrong'"

# --- a tampered blob in the cache: refused, removed, fetched again ----
d=$(grep '^dev\.qcow2\.0 ' "$tmp/l1" | cut -d' ' -f2)
b=$CACHE/blobs/sha256/${d#sha256:}
[ -f "$b" ] || fail "the cache lacks $d"
printf 'X' | dd of="$b" bs=1 seek=1000 conv=notrunc status=none
"$SBX" pull -C "$tmp/t1" "$R@$D1" 2>"$tmp/err" &&
	fail "a tampered cached blob was accepted"
grep -q "does not match its digest" "$tmp/err" ||
	fail "tampered cache: $(cat "$tmp/err")"
[ -e "$tmp/t1" ] && fail "a refused pull left '$tmp/t1'"
[ -e "$b" ] && fail "the tampered blob stayed in the cache"
"$SBX" pull -C "$tmp/t1" "$R@$D1" 2>"$tmp/err" ||
	fail "pull after a tampered cache: $(cat "$tmp/err")"

# --- an interrupted pull resumes: only missing blobs are fetched ------
grep '^proxy\.qcow2\.' "$tmp/l1" | cut -d' ' -f2 >"$tmp/proxy"
while read -r d; do
	rm -f "$CACHE/blobs/sha256/${d#sha256:}"
done <"$tmp/proxy"
cut -d' ' -f2 "$tmp/l1" >"$tmp/all"
n=$(wc -l <"$REGISTRY_LOG")
"$SBX" pull -C "$tmp/resumed" "$R@$D1" 2>"$tmp/err" ||
	fail "resumed pull: $(cat "$tmp/err")"
got=$(sed "1,${n}d" "$REGISTRY_LOG" | grep 'method=GET ' |
	sed -n 's/.*uri="*[^ ]*blobs\/\(sha256:[0-9a-f]*\).*/\1/p' |
	grep -Fxf "$tmp/all" |
	sort -u)
want=$(grep '^proxy\.qcow2\.' "$tmp/l1" | cut -d' ' -f2 | sort)
[ "$got" = "$want" ] || fail "the resumed pull fetched layers '$got', not '$want'"
diff -r -x .sbx-pulled -x .sbx-outputs "$tmp/resumed" "$tmp/unpacked" ||
	fail "the resumed pull differs"
# A real interruption: the registry loses one chunk midway, the pull
# fails after fetching others; once the chunk is back, a pull fetches only
# what is still missing.
rm -rf "$XDG_CACHE_HOME"
rb=$(registry_blob "$(grep '^proxy\.qcow2\.1 ' "$tmp/l1" | cut -d' ' -f2)")
mv "$rb" "$rb.away"
"$SBX" pull -C "$tmp/killed" "$R@$D1" 2>"$tmp/err" &&
	fail "a pull with a missing chunk succeeded"
[ -e "$tmp/killed" ] && fail "an interrupted pull left '$tmp/killed'"
mv "$rb.away" "$rb"
find "$CACHE/blobs/sha256" -type f -printf 'sha256:%f\n' 2>/dev/null |
	grep -Fxf "$tmp/all" >"$tmp/had" || true
n=$(wc -l <"$REGISTRY_LOG")
"$SBX" pull -C "$tmp/killed2" "$R@$D1" 2>"$tmp/err" ||
	fail "pull after an interrupted one: $(cat "$tmp/err")"
sed "1,${n}d" "$REGISTRY_LOG" | grep 'method=GET ' |
	sed -n 's/.*uri="*[^ ]*blobs\/\(sha256:[0-9a-f]*\).*/\1/p' |
	grep -Fxf "$tmp/had" && fail "the pull fetched again what the interrupted one had"
echo "check-push: an interrupted pull left $(wc -l <"$tmp/had") of $(wc -l <"$tmp/all") layers"
[ "$(wc -l <"$tmp/had")" -ge 1 ] || fail "the interrupted pull kept no layer"
diff -r -x .sbx-pulled -x .sbx-outputs "$tmp/killed2" "$tmp/unpacked" ||
	fail "the pull after an interruption differs"

# --- a tampered blob in the registry's storage ------------------------
rm -rf "$XDG_CACHE_HOME"
d=$(grep '^proxy\.qcow2\.1 ' "$tmp/l1" | cut -d' ' -f2)
rb=$(registry_blob "$d")
cp "$rb" "$tmp/saved"
printf 'X' | dd of="$rb" bs=1 seek=4096 conv=notrunc status=none
"$SBX" pull -C "$tmp/t2" "$R@$D1" 2>"$tmp/err" &&
	fail "a tampered registry blob was accepted"
grep -qi "digest" "$tmp/err" || fail "tampered registry: $(cat "$tmp/err")"
[ -e "$tmp/t2" ] && fail "a refused pull left '$tmp/t2'"
cp "$tmp/saved" "$rb"

# --- TLS is verified, credentials are needed --------------------------
SSL_CERT_FILE=/dev/null "$SBX" pull -C "$tmp/tls" "$R:v1" 2>"$tmp/err" &&
	fail "pull trusted an unknown CA"
grep -qi "certificate" "$tmp/err" || fail "untrusted CA: $(cat "$tmp/err")"
SSL_CERT_FILE=/dev/null "$SBX" pull --tls-verify=false -C "$tmp/tls" \
	"$R@$D1" 2>"$tmp/err" || fail "--tls-verify=false: $(cat "$tmp/err")"
echo '{"auths":{}}' >"$tmp/noauth.json"
REGISTRY_AUTH_FILE=$tmp/noauth.json "$SBX" -C "$P" push "$R:anon" \
	>/dev/null 2>"$tmp/err" && fail "push without credentials succeeded"
"$SBX" pull -C "$tmp/x" "-rf/x" 2>/dev/null && fail "pull took a bad reference"

[ "$fails" -eq 0 ] || exit 1
echo "check-push: all passed"
