#!/usr/bin/env bash
# Packs the `taskmill` binary that scripts/build-site.sh built (site embedded) into a wheel,
# target/wheels/taskmill-<version>-py3-none-<platform>.whl, the same layout maturin's "bin"
# bindings produce from pyproject.toml: the binary under taskmill-<v>.data/scripts/ (pip puts it
# in the venv's bin/), METADATA, WHEEL and RECORD (sha256 of every file) in the dist-info.
#
#   scripts/build-wheel.sh                     pack target/release/taskmill (no cargo build)
#   TASKMILL_BIN=path scripts/build-wheel.sh   pack another build
#
# Why not `maturin build`: maturin always runs cargo itself (`cargo rustc` with its own
# arguments), which here means a second fat-LTO release link of the server (minutes on CI's two
# cores) for a binary build-site.sh has just made. `pip install .` / `maturin build --release`
# from pyproject.toml remain the way to build the wheel from source; this script is the test
# suite's shortcut, and scripts/deploy-tests.sh checks that what it produces installs and runs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

BIN="${TASKMILL_BIN:-target/release/taskmill}"
[ -x "$BIN" ] || die "$BIN missing: run scripts/build-site.sh first"
OUT="${WHEEL_DIR:-$REPO/target/wheels}"
mkdir -p "$OUT"
VERSION="$(awk -F'"' '/^\[workspace.package\]/{w=1} w && /^version *=/{print $2; exit}' Cargo.toml)"
[ -n "$VERSION" ] || die "no [workspace.package] version in Cargo.toml"

python3 - "$BIN" "$OUT" "$VERSION" <<'PY'
import base64, hashlib, os, platform, sys, sysconfig, zipfile

binary, out, version = sys.argv[1:4]
name = "taskmill"
# An ordinary Linux build links glibc dynamically: tag it for this platform only
# (linux_x86_64), which pip installs here; a manylinux tag would need auditwheel's checks.
plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
tag = f"py3-none-{plat}"
wheel = os.path.join(out, f"{name}-{version}-{tag}.whl")
dist = f"{name}-{version}.dist-info"
data = f"{name}-{version}.data"

metadata = f"""Metadata-Version: 2.1
Name: {name}
Version: {version}
Summary: A console, worker and CLI for RQ (and Celery) queues on Redis, in one binary
License: MIT
Requires-Python: >=3.8
"""
wheel_meta = f"""Wheel-Version: 1.0
Generator: taskmill scripts/build-wheel.sh
Root-Is-Purelib: false
Tag: {tag}
"""

def digest(b):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b"=").decode()

with open(binary, "rb") as f:
    exe = f.read()
files = [
    (f"{data}/scripts/{name}", exe, 0o755),
    (f"{dist}/METADATA", metadata.encode(), 0o644),
    (f"{dist}/WHEEL", wheel_meta.encode(), 0o644),
]
record = "".join(f"{p},{digest(b)},{len(b)}\n" for p, b, _ in files) + f"{dist}/RECORD,,\n"
files.append((f"{dist}/RECORD", record.encode(), 0o644))

tmp = wheel + ".tmp"
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
    for path, body, mode in files:
        info = zipfile.ZipInfo(path, date_time=(2026, 1, 1, 0, 0, 0))
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, body)
os.replace(tmp, wheel)
print(f"    {wheel} ({os.path.getsize(wheel)} bytes; binary {len(exe)} bytes)")
PY
