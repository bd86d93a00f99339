#!/usr/bin/env bash
# Sourced by .ci/run (APT_ETC overrides /etc/apt, for the test in test/unit/debian-mirror.test.ts).
# The Debian archive this machine already uses for bookworm (a gallery's own mirror or proxy),
# from one-line sources or deb822 .sources stanzas; deb.debian.org only if none names it.
debian_mirror() {
  local uri etc=${APT_ETC:-/etc/apt}
  uri=$(grep -hsE '^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?[^[:space:]]+[[:space:]]+bookworm([[:space:]]|$)' \
          "$etc/sources.list" "$etc"/sources.list.d/*.list | head -n 1 |
        sed -E 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/')
  if [ -z "$uri" ]; then
    uri=$(awk 'BEGIN { RS = ""; FS = "\n" }
      /(^|\n)Suites:([^\n]*[[:space:]])?bookworm([[:space:]]|$)/ {
        for (i = 1; i <= NF; i++) if ($i ~ /^URIs:/) { split($i, f, /[[:space:]]+/); print f[2]; exit }
      }' "$etc"/sources.list.d/*.sources 2>/dev/null)
  fi
  if [ -z "$uri" ]; then
    echo "ci: no Debian bookworm source configured; using http://deb.debian.org/debian for backports" >&2
    uri=http://deb.debian.org/debian
  fi
  echo "$uri"
}

