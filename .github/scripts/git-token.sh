#!/usr/bin/env bash
# Run a command with git authenticated to GitHub by GIT_TOKEN, for that command only.
#
#   GIT_TOKEN=... git-token.sh COMMAND [ARG...]
#
# The workflows check out with `persist-credentials: false`, so no token sits in .git/config
# where every later step (yt-dlp, page parsers) could read it. The few steps that push pass
# the token here: it reaches git as an HTTP header through GIT_CONFIG_* variables of this
# process tree (the same header actions/checkout would write), never in argv or on disk, and
# it is masked in the job log.
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: GIT_TOKEN=... $0 COMMAND [ARG...]" >&2
  exit 2
fi
if [[ -z "${GIT_TOKEN:-}" ]]; then
  echo "GIT_TOKEN is not set" >&2
  exit 2
fi
server=${GITHUB_SERVER_URL:-https://github.com}
basic=$(printf 'x-access-token:%s' "$GIT_TOKEN" | base64 | tr -d '\n')
unset GIT_TOKEN
if [[ "${GITHUB_ACTIONS:-}" == true ]]; then
  echo "::add-mask::$basic"
fi
n=${GIT_CONFIG_COUNT:-0}
export "GIT_CONFIG_KEY_$n=http.$server/.extraheader"
export "GIT_CONFIG_VALUE_$n=AUTHORIZATION: basic $basic"
export GIT_CONFIG_COUNT=$((n + 1))
exec "$@"
