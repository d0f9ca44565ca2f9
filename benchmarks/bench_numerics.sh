#!/bin/sh
# The AudioSet engine's numeric paths on every CPU code path this machine can run or emulate.
#
#   benchmarks/bench_numerics.sh [WORK]        # default WORK: /var/tmp/sfx-numerics
#
# Needs, besides `make install`: Debian's qemu-user-static (qemu-x86_64-static, qemu-aarch64-static)
# and debootstrap, on an x86-64 host; nothing here is installed by the project's own install.
#   apt-get install qemu-user-static debootstrap
#
# What it runs (benchmarks/bench_numerics.py does the work):
#   - the patches and the two graphs, made once natively;
#   - native: this CPU (on the project's machines AVX-512 VNNI);
#   - qemu-x86_64 with -cpu Haswell (AVX2 + FMA) and Nehalem (SSE4.2): ONNX Runtime's MLAS chooses
#     its kernels from cpuid, which qemu answers for the model (qemu 7.2's TCG has no AVX-512, so
#     the native run is the only AVX-512 one; numpy 2.4 needs x86-64-v2, so nothing older than Nehalem);
#   - qemu-aarch64 on Debian 12 arm64 (debootstrap --foreign, packages unpacked, no chroot: qemu's
#     -L prefix finds the arm64 libraries) with the numpy and onnxruntime aarch64 wheels of the
#     pinned versions, with -cpu cortex-a53 (NEON only), neoverse-n1 (NEON + dot product) and max
#     (+ i8mm, SVE). ONNX Runtime reads the ISA from AT_HWCAP, which qemu sets for the model;
#     /proc/cpuinfo (the host's under qemu-user, which crashes cpuinfo's arm parser) is replaced
#     under each prefix by one that names a matching core.
# TARGETS=x86 (or arm64, or the start of one run's name) runs only the emulations whose names start
# so, e.g. two shells at once, and leaves out the comparison; a run without it scores what is not yet
# scored (nothing, after such runs) and compares.
# At the end: the int8 kernels each emulated CPU ran, read from qemu's translation log of one patch
# (`bench_numerics.py kernels`), and, where gcc is here, bench_numerics_isa.c run natively and under
# qemu to show its x86 emulation gives this CPU's bits.
# Emulation is slow (on a loaded 2-core EPYC about 0.25 s a patch for int8, 1 s for float, more for
# fakequant): every patch is scored on int8, the path whose kernels differ; SUBSET patches (default
# 96, spread evenly through the set) on all three paths.
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
PY="$REPO/.venv/bin/python"
BENCH="$REPO/benchmarks/bench_numerics.py"
WORK=${1:-/var/tmp/sfx-numerics}
SUBSET=${SUBSET:-96}
ORT=$("$PY" -c 'import onnxruntime; print(onnxruntime.__version__)')
NP=$("$PY" -c 'import numpy; print(numpy.__version__)')
mkdir -p "$WORK"
cd "$WORK"

for tool in qemu-x86_64-static qemu-aarch64-static debootstrap; do
    command -v $tool >/dev/null || { echo "$tool is missing: apt-get install qemu-user-static debootstrap"; exit 1; }
done

[ -f patches.npz ] || "$PY" "$BENCH" patches patches.npz
[ -d graphs ] || "$PY" "$BENCH" graphs graphs
"$PY" -c "import numpy as np, sys; d = dict(np.load('patches.npz'));
i = np.unique(np.linspace(0, len(d['clip']) - 1, int(sys.argv[1])).round().astype(int));
np.savez_compressed('subset.npz', patches=d['patches'][i], clip=d['clip'][i], names=d['names'])" "$SUBSET"

"$PY" -c "import numpy as np; d = dict(np.load('patches.npz'));
np.savez_compressed('one.npz', patches=d['patches'][:1], clip=d['clip'][:1], names=d['names'])"

[ -f native.npz ] || LABEL="native" "$PY" "$BENCH" score graphs patches.npz native.npz
[ -f native-subset.npz ] || LABEL="native" "$PY" "$BENCH" score graphs subset.npz native-subset.npz

kernel_log() {   # name, emulator and its options...: one int8 patch with qemu's translation log
    name=$1 emulator=$2; shift 2
    [ -f "$name.in_asm.log" ] || LABEL="$name" PATHS=int8 "$emulator" -d in_asm -D "$name.in_asm.log" "$@" \
        "$BENCH" score graphs one.npz "$name.in_asm.npz"
}

emulate() {   # name, paths on every patch, paths on the subset ("-" for none), emulator and options...
    name=$1 full=$2 part=$3; shift 3
    case "$name" in ${TARGETS:-}*) ;; *) return 0 ;; esac
    [ "$full" = - ] || [ -f "$name.full.npz" ] || LABEL="$name" PATHS="$full" "$@" "$BENCH" score graphs patches.npz "$name.full.npz"
    [ "$part" = - ] || [ -f "$name.subset.npz" ] || LABEL="$name" PATHS="$part" "$@" "$BENCH" score graphs subset.npz "$name.subset.npz"
}

# x86-64: qemu answers cpuid for the model; the features TCG cannot emulate are switched off
x86() {   # name, -cpu, paths on every patch, paths on the subset
    emulate "$1" "$3" "$4" qemu-x86_64-static -cpu "$2" "$PY"
    case "$1" in ${TARGETS:-}*) kernel_log "$1" qemu-x86_64-static -cpu "$2" "$PY" ;; esac
}
x86 "x86-Haswell-AVX2-FMA" "Haswell-v4,-pcid,-x2apic,-tsc-deadline,-invpcid,-spec-ctrl" int8 int8,float,fakequant
x86 "x86-Nehalem-SSE4.2" "Nehalem" int8 int8,float,fakequant

# arm64: Debian 12's python3 unpacked, and the wheels of the pinned versions
want_arm=no
case "${TARGETS:-arm64}" in arm64*) want_arm=yes ;; esac
if [ $want_arm = yes ] && [ ! -x arm64-root/usr/bin/python3.11 ]; then
    debootstrap --arch=arm64 --foreign --variant=minbase --include=python3 bookworm arm64-root \
        http://deb.debian.org/debian
    for deb in arm64-root/var/cache/apt/archives/*.deb; do dpkg-deb -x "$deb" arm64-root; done
fi
[ $want_arm = no ] || [ -d arm64-site/onnxruntime ] || "$REPO/.venv/bin/pip" install --quiet --target arm64-site \
    --platform manylinux_2_28_aarch64 --platform manylinux_2_27_aarch64 --platform manylinux_2_17_aarch64 \
    --platform manylinux2014_aarch64 --python-version 3.11 --implementation cp --only-binary=:all: \
    "onnxruntime==$ORT" "numpy==$NP"

arm() {   # name, -cpu, MIDR part, Features, paths on every patch, paths on the subset
    [ $want_arm = yes ] || return 0
    root="root-$2"
    mkdir -p "$root/proc"
    for d in usr lib bin etc; do [ -e "$root/$d" ] || ln -s "$WORK/arm64-root/$d" "$root/$d"; done
    : > "$root/proc/cpuinfo"
    for n in 0 1; do
        printf 'processor\t: %s\nBogoMIPS\t: 50.00\nFeatures\t: %s\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: %s\nCPU revision\t: 0\n\n' \
            "$n" "$4" "$3" >> "$root/proc/cpuinfo"
    done
    emulate "$1" "$5" "$6" qemu-aarch64-static -cpu "$2" -L "$root" -E PYTHONPATH="$WORK/arm64-site" "$root/usr/bin/python3.11"
    case "$1" in ${TARGETS:-}*) kernel_log "$1" qemu-aarch64-static -cpu "$2" -L "$root" \
        -E PYTHONPATH="$WORK/arm64-site" "$root/usr/bin/python3.11" ;; esac
}
BASE="fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid"
# MLAS's float kernels on arm64 are NEON whatever the core (the dot product and i8mm choose integer
# kernels only; SVE only element-wise ones the graph does not use): int8 runs on all three models,
# float on two, fakequant on one
DOT="$BASE atomics fphp asimdhp asimdrdm lrcpc dcpop asimddp"
arm "arm64-A53-NEON" cortex-a53 0xd03 "$BASE" int8 float,fakequant
arm "arm64-N1-NEON-dot" neoverse-n1 0xd0c "$DOT" int8 -
arm "arm64-max-i8mm-SVE" max 0xd49 "$DOT asimdfhm sve sve2 i8mm bf16" int8 float

[ -z "${TARGETS:-}" ] || exit 0    # a partial run: the comparison is left to a run without TARGETS
echo "######## int8 on every patch"
"$PY" "$BENCH" compare graphs patches.npz native.npz x86-*.full.npz arm64-*.full.npz
echo "######## the paths on $SUBSET patches"
"$PY" "$BENCH" compare graphs subset.npz native-subset.npz x86-*.subset.npz arm64-*.subset.npz
"$PY" "$BENCH" speed graphs patches.npz
echo "######## the int8 kernels each emulated CPU ran (qemu -d in_asm, one patch)"
"$PY" "$BENCH" kernels *.in_asm.log
if command -v gcc >/dev/null; then
    echo "######## qemu's AVX2/FMA/SSE against this CPU's: the same digest is the same bits"
    gcc -O2 -o isa-check "$REPO/benchmarks/bench_numerics_isa.c"
    echo "native:  $(./isa-check)"
    echo "Haswell: $(qemu-x86_64-static -cpu Haswell-v4,-pcid,-x2apic,-tsc-deadline,-invpcid,-spec-ctrl ./isa-check)"
fi
