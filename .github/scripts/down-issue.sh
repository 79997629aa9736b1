#!/usr/bin/env bash
# Keep ONE open issue listing the links that are down (needs `gh` and GH_TOKEN).
#
#   down-issue.sh REPORT.md
#
# REPORT.md is `monitor down-report --format markdown`: empty when nothing is down.
# - something down, no open issue      -> open one (label created when missing)
# - something down, open issue differs -> edit its body and comment that the list changed
# - something down, same list          -> leave it alone
# - nothing down, open issue           -> close it with a comment
# The issue is found by its label and exact title, so a run never opens a duplicate.
# Prints what it did: opened, updated, unchanged, closed or none.
set -euo pipefail

report=${1:?usage: $0 REPORT.md}
label=${DOWN_ISSUE_LABEL:-link-rot}
title=${DOWN_ISSUE_TITLE:-Links that are down}
run_url=""
if [[ -n "${GITHUB_RUN_ID:-}" ]]; then
  run_url="${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-}/actions/runs/${GITHUB_RUN_ID}"
fi

# The title is ours (no quotes in it), so it can sit inside the jq program.
number=$(gh issue list --label "$label" --state open --limit 100 --json number,title \
  --jq "map(select(.title == \"${title}\")) | sort_by(.number) | .[0].number // empty")

if ! grep -q '[^[:space:]]' "$report"; then
  if [[ -n "$number" ]]; then
    gh issue close "$number" --comment "Every link has recovered. ${run_url}"
    echo "closed #$number"
  else
    echo "none"
  fi
  exit 0
fi

if [[ -z "$number" ]]; then
  gh label create "$label" --color B60205 \
    --description "Links of the roadmap that are down" --force >/dev/null
  url=$(gh issue create --title "$title" --label "$label" --body-file "$report")
  echo "opened $url"
  exit 0
fi

current=$(gh issue view "$number" --json body --jq .body)
wanted=$(cat "$report")
# GitHub may store the body with CRLF line ends; compare without them.
if [[ "${current//$'\r'/}" == "${wanted//$'\r'/}" ]]; then
  echo "unchanged #$number"
else
  gh issue edit "$number" --body-file "$report"
  gh issue comment "$number" --body "The list of links that are down changed. ${run_url}"
  echo "updated #$number"
fi
