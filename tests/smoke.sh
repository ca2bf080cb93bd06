#!/bin/sh
# tests/smoke.sh REGEX COMMAND [ARGS...]: runs a tool end to end for CTest and passes only
# when it exits 0 AND its output has a line matching the extended REGEX (CTest's own
# PASS_REGULAR_EXPRESSION would ignore the exit code: a crash after the expected line passed).
regex=$1
shift
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out"
if [ "$rc" -ne 0 ]; then
  echo "smoke: exit $rc from $1"
  exit 1
fi
if ! printf '%s\n' "$out" | grep -Eq -- "$regex"; then
  echo "smoke: no line matches '$regex'"
  exit 1
fi
