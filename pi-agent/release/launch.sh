#!/bin/sh
# The systemd unit's ExecStart (docs/pi.md "Updates"): starts the agent release that
# /opt/smart-home-agent/current points at, unless that release is on trial after an over-the-air
# update and its connect deadline has passed, in which case it first points `current` back at the
# previous release. install.sh installs this file once, root-owned, outside the release folder the
# agent may write: it is part of no release, so a release too broken to start (a syntax error, a
# missing module, a crash before its updater runs, a bad bin/node) is still rolled back.
#
#   launch.sh <node flags...> -- <agent arguments...>
#   execs <dir>/current/bin/node <node flags...> <dir>/current/lib/agent.js <agent arguments...>
#
# <dir> is $SMART_HOME_AGENT_DIRECTORY, default /opt/smart-home-agent (the agent config's
# release.directory default; tests point it at a temp folder).
#
# The trial marker <dir>/trial is written by the updater (pi-agent/updates/release-directory.ts,
# atomically) just before it switches `current`, and removed once the job is settled:
#   version=<release on trial>
#   previous=<release to go back to>
#   deadline=<epoch seconds by which the release on trial must have connected>
# A marker this script cannot read is ignored with one line on stderr: the device always starts.
set -u

directory=${SMART_HOME_AGENT_DIRECTORY:-/opt/smart-home-agent}
marker=$directory/trial

say() { echo "smart-home-agent launcher: $*" >&2; }

# A release name as the updater writes it (contracts/agent-release.ts agentVersionSchema): no
# slash, no leading dot, so it can only name a folder under releases/.
is_version() {
  case $1 in
    '' | .* | *[!0-9A-Za-z.+-]*) return 1 ;;
    *) return 0 ;;
  esac
}

# Epoch seconds: at most 12 digits, so the shell's arithmetic never overflows.
is_epoch_seconds() {
  case $1 in
    '' | *[!0-9]*) return 1 ;;
    *) [ ${#1} -le 12 ] ;;
  esac
}

roll_back_if_due() {
  # Checked first: some shells exit on a redirection that fails, and the agent must start regardless.
  if [ ! -r "$marker" ]; then
    say "ignoring $marker: cannot read it"
    return
  fi
  version='' previous='' deadline=''
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      version=*) version=${line#version=} ;;
      previous=*) previous=${line#previous=} ;;
      deadline=*) deadline=${line#deadline=} ;;
      *) say "ignoring $marker: unexpected line '$line'"; return ;;
    esac
  done <"$marker"
  if ! is_version "$version" || ! is_version "$previous" || ! is_epoch_seconds "$deadline"; then
    say "ignoring $marker: it needs version=, previous= and deadline=<epoch seconds> (version='$version' previous='$previous' deadline='$deadline')"
    return
  fi
  # Only the release on trial is rolled back: after a rollback (by the agent or by this script)
  # `current` already names another release, and the marker waits for the agent to settle the job.
  current=$(readlink "$directory/current") || return
  if [ "${current##*/}" != "$version" ]; then return; fi
  now=$(date +%s)
  if ! is_epoch_seconds "$now"; then return; fi
  if [ "$now" -lt "$deadline" ]; then
    # Tells the agent it is on trial (pi-agent/main.ts): a release on trial that rejects the config
    # then exits with a code the unit restarts, not 78, so this script can still roll it back.
    SMART_HOME_AGENT_ON_TRIAL=$version
    export SMART_HOME_AGENT_ON_TRIAL
    return
  fi
  if [ ! -f "$directory/releases/$previous/VERSION" ]; then
    say "version $version missed its connect deadline, but the previous release $previous is not in $directory/releases: starting $version"
    return
  fi
  # A new link renamed over the old one (rename(2) replaces atomically), as the updater and
  # install.sh switch: a power cut leaves the old or the new link, never none.
  link=$directory/current.launcher.$$
  if ln -sfn "releases/$previous" "$link" && mv -T "$link" "$directory/current"; then
    sync
    say "version $version did not start and connect within its deadline ($((now - deadline)) s ago): switched $directory/current back to $previous"
  else
    rm -f "$link"
    say "version $version missed its connect deadline, but $directory/current could not be switched back to $previous: starting $version"
  fi
}

if [ -f "$marker" ]; then roll_back_if_due; fi

# "$@" becomes: <node flags...> <dir>/current/lib/agent.js <agent arguments...> (the first "--"
# marks where agent.js goes).
separated=false
for argument; do
  shift
  if [ "$separated" = false ] && [ "$argument" = -- ]; then
    separated=true
    set -- "$@" "$directory/current/lib/agent.js"
  else
    set -- "$@" "$argument"
  fi
done
if [ "$separated" = false ]; then
  say "usage: launch.sh <node flags...> -- <agent arguments...>"
  exit 2
fi
exec "$directory/current/bin/node" "$@"
