"""Start-up benchmark: the fixed cost of a `watcher` command beside Python's own start-up.

    python bench/startup.py [--runs 15] [--json FILE]

Runs each command as a whole process, rotated so no command always runs on a cold or a warm
machine, and prints wall and CPU (user + system of the child) as min / median / max, each
beside the floor measured in the same run: ``python -c pass`` with the same interpreter.
Commands: ``watcher --help``, ``watcher extract`` of a one-sentence text file (table and
``--json``; also with the example config beside it), ``watcher extract`` of a seed article, and the imports a pool worker pays
before its first task (``watcher.work``, the slim worker entry, beside ``watcher.pipeline``).
``--baseline DIR`` also times ``--help`` and ``extract`` from another checkout's package
(e.g. ``git archive main watcher | tar -x -C DIR``), in the same rotation.

Benchmarks print figures; nothing here fails on a slow number.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMALL = ("Russia demanded that Ukraine withdraw from Zaporizhzhia as a condition for a "
         "30-day ceasefire, the Kremlin said on Monday.\n")


def _watcher() -> list[str]:
    exe = Path(sys.executable).with_name("watcher")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "watcher"]


def _run(cmd: list[str], cwd: Path) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--baseline", type=Path,
                    help="a checkout (the folder holding watcher/) to time the same CLI commands from")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="watcher-startup-"))  # no config.toml here: none read
    small = tmp / "small.txt"
    small.write_text(SMALL)
    seed = sorted((ROOT / "watcher" / "data" / "seeds").glob("*.txt"))[0]
    config = tmp / "with-config" / "config.toml"  # the example config: feeds, topics, schedules
    config.parent.mkdir()
    config.write_text((ROOT / "config.toml").read_text())
    py, w = [sys.executable], _watcher()
    commands = {
        "python -c pass (floor)": py + ["-c", "pass"],
        "watcher --help": w + ["--help"],
        "watcher extract small.txt": w + ["extract", str(small)],
        "watcher extract --json small.txt": w + ["extract", "--json", str(small)],
        "watcher extract --json seed article": w + ["extract", "--json", str(seed)],
        "watcher extract small.txt, a config": w + ["extract", str(small), "--config", str(config)],
        "worker imports: watcher.work": py + ["-c", "import watcher.work"],
        "worker imports: watcher.pipeline": py + ["-c", "import watcher.pipeline"],
    }
    if args.baseline:  # the same commands from another checkout's package, same run
        run_cli = ("import sys; sys.path.insert(0, {!r}); sys.argv = ['watcher'] + sys.argv[1:]; "
                   "from watcher.cli import main; main()")
        for label, root in (("", ROOT), ("baseline: ", args.baseline)):
            code = run_cli.format(str(root))
            commands[f"{label}cli --help"] = py + ["-c", code, "--help"]
            commands[f"{label}cli extract small.txt"] = py + ["-c", code, "extract", str(small)]
            commands[f"{label}cli extract, a config"] = py + ["-c", code, "extract", str(small),
                                                               "--config", str(config)]
    for cmd in commands.values():  # warm the page cache and .pyc files once
        _run(cmd, tmp)
    samples: dict[str, list[tuple[float, float]]] = {k: [] for k in commands}
    names = list(commands)
    for i in range(args.runs):
        for name in names[i % len(names):] + names[:i % len(names)]:
            samples[name].append(_run(commands[name], tmp))
    floor_wall = statistics.median(w for w, _ in samples[names[0]])
    floor_cpu = statistics.median(c for _, c in samples[names[0]])
    out = {"runs": args.runs, "cpus": os.cpu_count(), "python": sys.version.split()[0], "commands": {}}
    print(f"{args.runs} runs each, rotated; wall and CPU in seconds, min / median / max; "
          "x floor = median / median of `python -c pass` in this run")
    print(f"{'command':38s} {'wall':>22s} {'x floor':>8s} {'CPU':>22s} {'x floor':>8s}")
    for name in names:
        walls = sorted(x for x, _ in samples[name])
        cpus = sorted(c for _, c in samples[name])
        row = {
            "wall": [round(walls[0], 3), round(statistics.median(walls), 3), round(walls[-1], 3)],
            "cpu": [round(cpus[0], 3), round(statistics.median(cpus), 3), round(cpus[-1], 3)],
        }
        row["wall_x_floor"] = round(row["wall"][1] / floor_wall, 2)
        row["cpu_x_floor"] = round(row["cpu"][1] / floor_cpu, 2) if floor_cpu else None
        out["commands"][name] = row
        print(f"{name:38s} {' / '.join(f'{x:.3f}' for x in row['wall']):>22s} {row['wall_x_floor']:>7.2f}x "
              f"{' / '.join(f'{x:.3f}' for x in row['cpu']):>22s} {row['cpu_x_floor'] or 0:>7.2f}x")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
