#!/usr/bin/env bash
# The action's gate step: `modelgate check` once, with --format github (annotations on the
# pull request, the Markdown summary appended to $GITHUB_STEP_SUMMARY) and a --report for
# each file the later steps keep; then the step's outputs. Exits with modelgate's status:
# 0 allow, 1 deny, 2 error (the job fails on both).
set -uo pipefail

modelgate=${MODELGATE:-modelgate}
dir=${INPUT_REPORT_DIR:-modelgate-reports}
mkdir -p "$dir"
# A report left by an earlier run must not speak for this one.
rm -f "$dir/report.json" "$dir/modelgate.sarif" "$dir/attestation.json"
args=(check "${INPUT_PROJECT:-.}" --format github
    --report "json=$dir/report.json" --report "sarif=$dir/modelgate.sarif"
    --report "html=$dir/report.html" --report "junit=$dir/junit.xml"
    --report "markdown=$dir/summary.md" --report "text=$dir/report.txt")
[[ -n "${INPUT_ENVIRONMENT:-}" ]] && args+=(--environment "$INPUT_ENVIRONMENT")
[[ -n "${INPUT_POLICIES:-}" ]] && args+=(--policies "$INPUT_POLICIES")
[[ -n "${INPUT_STORE:-}" ]] && args+=(--store "$INPUT_STORE")
if [[ -n "${INPUT_SERVER:-}" ]]; then
    args+=(--server "$INPUT_SERVER" --attestation "$dir/attestation.json")
fi
while IFS= read -r report; do
    report=${report#"${report%%[![:space:]]*}"}
    [[ -n "$report" ]] && args+=(--report "$report")
done <<<"${INPUT_REPORTS:-}"

status=0
"$modelgate" "${args[@]}" || status=$?

decision=error
id=
if [[ $status -le 1 && -s "$dir/report.json" ]]; then
    decision=$(sed -n 's/^  "decision": "\([a-z]*\)",$/\1/p' "$dir/report.json" | head -1)
    id=$(sed -n 's/^  "decision_id": "\([^"]*\)",$/\1/p' "$dir/report.json" | head -1)
fi
{
    echo "decision=${decision:-error}"
    echo "decision-id=$id"
    echo "report-dir=$dir"
    [[ -s "$dir/modelgate.sarif" ]] && echo "sarif=$dir/modelgate.sarif"
    [[ -s "$dir/attestation.json" ]] && echo "attestation=$dir/attestation.json"
} >>"$GITHUB_OUTPUT"
exit "$status"
