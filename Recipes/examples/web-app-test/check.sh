#!/bin/sh
# Waits up to 10 s for the service to answer, then checks what it says.
set -u
for _ in $(seq 100); do
  page=$(wget -q -O - "$TARGET") && break
  sleep 0.1
done
echo "GET $TARGET: ${page:-no answer}"
case "${page:-}" in
  *"$EXPECT"*) echo "ok: the page says '$EXPECT'" ;;
  *) echo "FAIL: expected '$EXPECT'"; exit 1 ;;
esac
