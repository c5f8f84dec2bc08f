#!/bin/sh
# The scale-out test's agent worker, as the dispatcher runs it in API mode: a shell and curl (a few
# milliseconds a process, so the dispatchers can run hundreds on two cores), talking to the replica
# named by KANBAN_URL. It heartbeats SCALE_BEATS times (each extends the claim), then completes the
# task, fenced on KANBAN_RUN_ID/KANBAN_CLAIM_LOCK. Any refusal or a dead replica is exit 3/4, which
# the dispatcher books as a crash (the task comes back and runs again).
# Each outcome is one line in SCALE_RECORD: pid task run heartbeat|complete http-status.
fence="\"board\":\"${KANBAN_BOARD:-default}\",\"id\":\"$KANBAN_TASK\",\"expected_run_id\":$KANBAN_RUN_ID,\"claim_lock\":\"$KANBAN_CLAIM_LOCK\""
call() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST -H 'content-type: application/json' \
    --data "{$fence$2}" "$KANBAN_URL/trpc/$1"
}
note() {
  [ -n "$SCALE_RECORD" ] && echo "$$ $KANBAN_TASK $KANBAN_RUN_ID $1 $2" >>"$SCALE_RECORD"
}
note start -
i=0
while [ "$i" -lt "${SCALE_BEATS:-0}" ]; do
  code=$(call tasks.heartbeat ",\"ttl_seconds\":${SCALE_TTL_SECONDS:-3}")
  note heartbeat "$code"
  [ "$code" = 200 ] || exit 3
  sleep "${SCALE_BEAT_SECONDS:-0.3}"
  i=$((i + 1))
done
code=$(call tasks.complete ',"summary":"scale-out worker"')
note complete "$code"
[ "$code" = 200 ] || exit 4
