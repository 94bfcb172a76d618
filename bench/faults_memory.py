"""Peak memory of one poll per bad feed: every fault of `tests/faults.py`'s `fault_zoo`, each
polled by a fresh subprocess (so one fault's high-water mark cannot hide another's).

    .venv/bin/python bench/faults_memory.py            # table, worst first
    .venv/bin/python bench/faults_memory.py --json     # one JSON object per fault

The loopback server runs in this (parent) process, so the figures are the watcher's own:
the child's peak RSS (VmHWM) after `Pipeline.poll` (workers = 1: parsing runs in-process),
next to a child that polls a small good feed for comparison.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import asyncio, json, resource, sys

def hwm_kb():
    # VmHWM belongs to this program's address space; ru_maxrss would also count the parent
    # process this one was forked from (Linux keeps it across exec)
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
from pathlib import Path
from watcher.config import parse_config
from watcher.pipeline import Pipeline
from watcher.store import Store

url, db, timeout = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
config = parse_config({"watcher": {"database": str(db), "allow_private": True, "workers": 1,
                                   "timeout": timeout},
                       "feeds": [{"url": url, "name": "bad"}]}, base=db.parent)
before = hwm_kb()
store = Store.open(db)

async def main():
    async with Pipeline(config, store) as pipeline:
        return await pipeline.poll(all_feeds=True)

report = asyncio.run(main())[0]
peak = hwm_kb()
print(json.dumps({"outcome": report.outcome, "error": report.error, "peak_kb": peak,
                  "before_kb": before, "entries": report.entries_seen}))
"""


def measure(url: str, workdir: Path, name: str, timeout: str = "2s") -> dict:
    """Run one poll of `url` in a fresh interpreter; its peak RSS in KiB and what it said."""
    db = workdir / f"{name}.db"
    proc = subprocess.run([sys.executable, "-c", CHILD, url, str(db), timeout],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return {"name": name, "crashed": True, "stderr": proc.stderr[-2000:]}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["name"] = name
    return result


def measure_all(names: list[str] | None = None) -> list[dict]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tests/faults.py
    from faults import LoopbackServer, fault_zoo

    from watcher.demo import article_page, rss_feed, seed_stories

    with LoopbackServer() as server, tempfile.TemporaryDirectory() as tmp:
        stories = seed_stories()
        for s in stories:
            server.add(f"/world/{s.slug}.html", article_page(s), content_type="text/html")
        targets = {"(good feed)": server.add("/good.xml", rss_feed(stories, server.base_url))}
        targets.update(fault_zoo(server))
        if names:
            targets = {k: v for k, v in targets.items() if k in names or k == "(good feed)"}
        return [measure(url, Path(tmp), name) for name, url in targets.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("faults", nargs="*", help="only these faults (default: all)")
    args = parser.parse_args()
    results = measure_all(args.faults or None)
    if args.json:
        for r in results:
            print(json.dumps(r))
        return
    results.sort(key=lambda r: -r.get("peak_kb", 0))
    print(f"{'fault':24} {'peak RSS':>10} {'after imports':>14}  outcome / error")
    for r in results:
        if r.get("crashed"):
            print(f"{r['name']:24} CRASHED: {r['stderr'][-300:]}")
            continue
        print(f"{r['name']:24} {r['peak_kb'] / 1024:8.1f} MB {r['before_kb'] / 1024:11.1f} MB  "
              f"{r['outcome']}: {(r['error'] or '')[:70]}")


if __name__ == "__main__":
    main()
