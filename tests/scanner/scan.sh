#!/bin/sh
# A stand-in image scanner for the tests: scan.sh IMAGE
# Rejects IMAGE (exit 1, with a short summary) when it is a line of the file
# named by $SFS_SCAN_MARKED; passes it otherwise (exit 0). When set,
# $SFS_SCAN_LOG gets IMAGE appended and $SFS_SCAN_SLEEP seconds pass first.
set -eu
image=$1
if [ -n "${SFS_SCAN_LOG:-}" ]; then
    printf '%s\n' "$image" >>"$SFS_SCAN_LOG"
fi
if [ -n "${SFS_SCAN_SLEEP:-}" ]; then
    sleep "$SFS_SCAN_SLEEP"
fi
echo "scanning $image"
if [ -n "${SFS_SCAN_MARKED:-}" ] && grep -qxF -- "$image" "$SFS_SCAN_MARKED"; then
    echo "$image: 1 CRITICAL (TEST-0001, marked by the tests), 0 HIGH"
    echo "REJECTED $image"
    exit 1
fi
echo "$image: 0 CRITICAL, 0 HIGH"
