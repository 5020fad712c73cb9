#!/bin/sh
# Banned calls (STYLE.md 15): unbounded or silently failing C library functions.
cd "${SG_SRCDIR:?}" || exit 1
echo "1..1"
bad=$(grep -nE '\b(sprintf|vsprintf|strcpy|strcat|gets|atoi|atol|atof|strtok)[[:space:]]*\(' \
  core/*.c cli/*.c syncd/*.c common/*.c server/*.c 2>/dev/null)
if [ -n "$bad" ]; then
  echo "not ok 1 - banned calls found:"
  echo "$bad" | sed 's/^/# /'
  exit 1
fi
echo "ok 1 - no sprintf, strcpy, strcat, gets, atoi, atol, atof or strtok in the sources"
