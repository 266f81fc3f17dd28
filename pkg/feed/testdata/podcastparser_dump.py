"""Parse a feed with gPodder's podcastparser (Debian python3-podcastparser) and print what it
read as JSON, so that the Go tests can compare it with what we wrote.

usage: podcastparser_dump.py FEED_URL FEED_FILE
"""
import json
import sys

import podcastparser

url, path = sys.argv[1], sys.argv[2]
with open(path, 'rb') as f:
    parsed = podcastparser.parse(url, f)
json.dump(parsed, sys.stdout, sort_keys=True, indent=1, default=str)
