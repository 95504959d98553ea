#!/usr/bin/env bash
# Build the esp-open-sdk style sysroot that MicroPython's esp8266 port links against, for Debian's
# compiler (gcc-xtensa-lx106, binutils-xtensa-lx106, libnewlib-dev), without esp-open-sdk's
# crosstool-NG build and without a network.  It does what esp-open-sdk's Makefile does with
# VENDOR_SDK=2.1.0-18-g61248df STANDALONE=y, at the commits pinned below:
#
#   ESP8266_NONOS_SDK, patched   -> usr/include, usr/lib, the two eagle ld scripts
#   libcrypto.a merged into libwpa.a; user_rf_cal_sector_set.o added to libmain.a
#   esp-open-lwip                -> usr/lib/liblwip_open.a, its headers in usr/include
#   lx106-hal's headers          -> usr/include/xtensa
#   newlib's headers (Debian)    -> usr/include
#
# usage: tools/esp8266-sysroot.sh (--archive esp8266-sdk-src.tar.xz | --src DIR) [--out DIR]
#   --archive  the snapshot of the four trees (checked against SDK_SRC_SHA256 below)
#   --src      a folder holding the upstream checkouts side by side: ESP8266_NONOS_SDK,
#              esp-open-sdk, esp-open-lwip, lx106-hal (git checkouts must be at the pinned commits)
#   --out      where the sysroot goes (default build/esp8266-sysroot); rebuilt only when the
#              input changes.  Then: make -C micropython/ports/esp8266 ESP_SDK=<out>/usr ...
set -euo pipefail

SDK_SRC_SHA256=e2a6fce77834bde2750040e1c5453f255a0e3cee7a297bd139a23edfb55c527a
declare -A PINS=(
    [ESP8266_NONOS_SDK]=61248df5f6d45d130313b412f7492f581fd4cadf
    [esp-open-sdk]=c70543e57fb18e5be0315aa217bca27d0e26d23d
    [esp-open-lwip]=8c39d2179a273553466043f388772abb6251a4ca
    [lx106-hal]=e4bcc63c9c016e4f8848e7e8f512438ca857531d
)
CROSS=xtensa-lx106-elf-
NEWLIB_INCLUDE=${NEWLIB_INCLUDE:-/usr/include/newlib}

die() { printf 'esp8266-sysroot: %s\n' "$*" >&2; exit 1; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
archive="" src="" out="$ROOT/build/esp8266-sysroot"
while [ $# -gt 0 ]; do
    case "$1" in
        --archive) archive=${2:?--archive needs a file}; shift ;;
        --src) src=${2:?--src needs a folder}; shift ;;
        --out) out=${2:?--out needs a folder}; shift ;;
        -h|--help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
    shift
done
[ -n "$archive" ] || [ -n "$src" ] || die "give the SDK sources: --archive FILE or --src DIR (see --help)"
[ -z "$archive" ] || [ -z "$src" ] || die "give --archive or --src, not both"

# The identity of the input: a rebuild happens only when it changes.
if [ -n "$archive" ]; then
    [ -f "$archive" ] || die "$archive does not exist"
    sum=$(sha256sum "$archive" | cut -d' ' -f1)
    [ "$sum" = "$SDK_SRC_SHA256" ] || die "$archive: SHA-256 $sum, expected $SDK_SRC_SHA256"
    identity="archive $sum"
else
    src=$(cd "$src" && pwd) || die "$src is not a folder"
    identity="src"
    for tree in ESP8266_NONOS_SDK esp-open-sdk esp-open-lwip lx106-hal; do
        [ -d "$src/$tree" ] || die "$src/$tree is missing (the four upstream checkouts go side by side)"
        if git -C "$src/$tree" rev-parse --git-dir >/dev/null 2>&1; then
            head=$(git -C "$src/$tree" rev-parse HEAD)
            [ "$head" = "${PINS[$tree]}" ] || die "$src/$tree is at $head, expected ${PINS[$tree]}"
        fi
        identity+=" $tree=${PINS[$tree]}"
    done
    identity+=" $(find "$src" -type f -not -path '*/.git/*' -printf '%P %s %T@\n' | sort | sha256sum | cut -d' ' -f1)"
fi
for tool in gcc ar; do
    command -v "$CROSS$tool" >/dev/null \
        || die "no $CROSS$tool: apt-get install gcc-xtensa-lx106 binutils-xtensa-lx106 libnewlib-dev"
done
[ -f "$NEWLIB_INCLUDE/stdlib.h" ] || die "no newlib headers in $NEWLIB_INCLUDE: apt-get install libnewlib-dev"

identity+=" $($CROSS"gcc" -dumpfullversion) newlib=$(sha256sum <"$NEWLIB_INCLUDE/_newlib_version.h" | cut -c1-16)"
if [ -f "$out/.identity" ] && [ "$(cat "$out/.identity")" = "$identity" ]; then
    echo "esp8266-sysroot: $out is up to date"
    exit 0
fi

mkdir -p "$(dirname "$out")"
work=$(mktemp -d "${out%/}.tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ -n "$archive" ]; then
    tar -xJf "$archive" -C "$work"
    src="$work/esp8266-src"
fi
sdk="$work/sdk"
cp -R "$src/ESP8266_NONOS_SDK" "$sdk"
rm -rf "$sdk/.git"
sysroot="$work/sysroot"
mkdir -p "$sysroot/usr/include" "$sysroot/usr/lib"

# 1. The SDK, patched as esp-open-sdk's sdk_patch target does.
printf '#undef ESP_SDK_VERSION\n#define ESP_SDK_VERSION 020100\n' >>"$sdk/include/esp_sdk_ver.h"
patch -s -d "$sdk" -p1 <"$src/esp-open-sdk/c_types-c99_sdk_2.patch"
mkdir "$work/crypto"
(cd "$work/crypto" && "${CROSS}ar" x "$sdk/lib/libcrypto.a" && "${CROSS}ar" rs "$sdk/lib/libwpa.a" ./*.o)
"${CROSS}gcc" -O2 -isystem "$NEWLIB_INCLUDE" -I"$sdk/include" \
    -c "$src/esp-open-sdk/user_rf_cal_sector_set.c" -o "$work/user_rf_cal_sector_set.o"
"${CROSS}ar" r "$sdk/lib/libmain.a" "$work/user_rf_cal_sector_set.o"

# 2. Headers: newlib + SDK + HAL in one folder; a name in two of them would be a silent override.
collisions=$(cd "$sdk/include" && for f in *; do [ ! -e "$NEWLIB_INCLUDE/$f" ] || echo "$f"; done)
[ -z "$collisions" ] || die "SDK headers collide with newlib's: $collisions"
cp -R "$NEWLIB_INCLUDE"/. "$sysroot/usr/include/"
cp -R "$sdk/include"/. "$sysroot/usr/include/"
cp -R "$src/lx106-hal/include/xtensa" "$sysroot/usr/include/"

# 3. Libraries and linker scripts (CRs stripped, ../ld/ prefixes dropped, as esp-open-sdk does).
cp -R "$sdk/lib"/. "$sysroot/usr/lib/"
sed -e 's/\r//' -e 's@\.\./ld/@@' "$sdk/ld/eagle.app.v6.ld" >"$sysroot/usr/lib/eagle.app.v6.ld"
sed -e 's/\r//' "$sdk/ld/eagle.rom.addr.v6.ld" >"$sysroot/usr/lib/eagle.rom.addr.v6.ld"

# 4. esp-open-lwip, compiled against the sysroot so far (-fcommon: gcc >= 10 defaults to -fno-common).
cp -R "$src/esp-open-lwip" "$work/lwip"
make -s -C "$work/lwip" -f Makefile.open -j"$(nproc)" CC="${CROSS}gcc" AR="${CROSS}ar" \
    CFLAGS_EXTRA="-isystem $sysroot/usr/include -fcommon" liblwip_open.a
cp "$work/lwip/liblwip_open.a" "$sysroot/usr/lib/"
cp -R "$work/lwip/include/arch" "$work/lwip/include/lwip" "$work/lwip/include/netif" \
    "$work/lwip/include/lwipopts.h" "$sysroot/usr/include/"

printf '%s\n' "$identity" >"$sysroot/.identity"
rm -rf "$out"
mv "$sysroot" "$out"
echo "esp8266-sysroot: built $out"
