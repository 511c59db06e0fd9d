#!/usr/bin/env bash
# Exercism test runner: bin/run.sh SLUG INPUT_DIR OUTPUT_DIR
#
# Grades the exercise SLUG (an id or slug of course.yaml) from the student's files in
# INPUT_DIR and writes OUTPUT_DIR/results.json (version 3 of Exercism's test-runner
# interface). Always exits 0, as the interface asks: a hang, a crash or a grader failure is
# reported inside results.json. Exercism allows 20 s per run; each check's time limit is
# lowered so that even a hanging submission is reported (with where it hung) inside that.
#
# Environment: GRADER_PYTHON (python3), GRADER_TIMEOUT (seconds per check, 6),
# GRADER_DEADLINE (seconds for the whole run, 19), GRADER_EXTRA_ARGS (more grade options).
set -u

if [ "$#" -ne 3 ]; then
    echo "usage: bin/run.sh SLUG INPUT_DIR OUTPUT_DIR" >&2
    exit 0
fi
SLUG="$1"
INPUT="${2%/}"
OUTPUT="${3%/}"
COURSE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${GRADER_PYTHON:-python3}"
TIMEOUT="${GRADER_TIMEOUT:-6}"
DEADLINE="${GRADER_DEADLINE:-19}"
RESULTS="$OUTPUT/results.json"

mkdir -p "$OUTPUT"
rm -f "$RESULTS"

# The student's file: the one .meta/config.json names, else the folder (files by the
# course's names; a missing one is graded "not implemented").
SUBMISSION="$INPUT"
if [ -f "$INPUT/.meta/config.json" ]; then
    solution=$("$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["files"]["solution"][0])' \
        "$INPUT/.meta/config.json" 2> /dev/null)
    if [ -n "$solution" ] && [ -f "$INPUT/$solution" ]; then
        SUBMISSION="$INPUT/$solution"
    fi
fi

# shellcheck disable=SC2086  # word splitting of the extra options is wanted
timeout --signal=INT --kill-after=1 "$DEADLINE" \
    "$PYTHON" -m grader "$SLUG" --course "$COURSE" --submission "$SUBMISSION" --timeout "$TIMEOUT" \
    ${GRADER_EXTRA_ARGS:-} --format exercism --output "$RESULTS" > /dev/null 2> "$OUTPUT/.grade-stderr"
status=$?

if ! "$PYTHON" -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["version"] == 3' "$RESULTS" \
        2> /dev/null; then
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        why="Grading did not finish within $DEADLINE seconds and was stopped."
    else
        why="The grader stopped (exit status $status) before it wrote its results."
    fi
    printf '{"version": 3, "status": "error", "message": "%s This is a problem in the test runner, not in your code.", "tests": []}\n' \
        "$why" > "$RESULTS"
fi
tail -n 20 "$OUTPUT/.grade-stderr" >&2
rm -f "$OUTPUT/.grade-stderr"
exit 0
