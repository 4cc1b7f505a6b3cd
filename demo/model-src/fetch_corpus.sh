#!/usr/bin/env bash
# Downloads the World English Bible SWORD module from Debian (without
# installing it) and extracts the text to <work>/chapters.jsonl.
# usage: fetch_corpus.sh <work-dir>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$1"
mkdir -p "$work/deb"
cd "$work/deb"
apt-get download sword-text-web=426.0-1
dpkg -x sword-text-web_426.0-1_all.deb root
sha256sum sword-text-web_426.0-1_all.deb
/usr/bin/python3 "$here/extract_web.py" root/usr/share/sword/modules/texts/ztext/engWEB2015eb "$work/chapters.jsonl"
sha256sum "$work/chapters.jsonl"
