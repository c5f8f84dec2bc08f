#!/bin/sh
# A stand-in for a worker whose descendants try to outlive it (containment tests):
#   worker (group leader) ─ child ─ grandchild (ignores SIGTERM)
#                         └ escapee: setsid, its own session and group (ignores SIGTERM) ─ escapee-child
# Each process appends "<pid> <role>" to $RUN_TREE_PIDS (default ./run-tree.pids), then waits.
# Ignored signals stay ignored across exec, so the sleeps of the SIGTERM-ignoring roles ignore it too.
# RUN_TREE_POLITE=1: no role ignores SIGTERM.
out="${RUN_TREE_PIDS:-$PWD/run-tree.pids}"
self="$0"
role="${1:-worker}"
stubborn() { [ "${RUN_TREE_POLITE:-0}" = 1 ] || trap '' TERM; }
case "$role" in
  worker)
    echo "$$ worker" >> "$out"
    sh "$self" child &
    setsid sh "$self" escapee &
    wait
    ;;
  child)
    echo "$$ child" >> "$out"
    sh "$self" grandchild &
    wait
    ;;
  grandchild)
    stubborn
    echo "$$ grandchild" >> "$out"
    exec sleep 100000
    ;;
  escapee)
    stubborn
    echo "$$ escapee" >> "$out"
    sh "$self" escapee-child &
    wait
    ;;
  escapee-child)
    echo "$$ escapee-child" >> "$out"
    exec sleep 100000
    ;;
esac
