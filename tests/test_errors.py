"""Bad input and a bad environment end in one `error:` line (or click's usage error) and a
non-zero exit, never a traceback (issue 14.12). Each case runs the real `watcher` command."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from watcher.fetch import Fetcher
from watcher.loopback import LoopbackServer

pytestmark = pytest.mark.timeout(120)


def watcher(*args: str, cwd: Path, as_nobody: bool = False) -> subprocess.CompletedProcess:
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if as_nobody else []
    return subprocess.run([*prefix, sys.executable, "-m", "watcher", *args], capture_output=True, text=True,
                          timeout=60, cwd=cwd)


def one_error(result: subprocess.CompletedProcess, *needles: str, code: int = 1) -> None:
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("rror: ") == 1, result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


def config(folder: Path, db: str = "w.db", extra: str = "") -> Path:
    path = folder / "config.toml"
    path.write_text(f'[watcher]\ndatabase = "{db}"\n\n[[feeds]]\nurl = "http://127.0.0.1:9/feed.xml"\n'
                    f'\n[digest]\nchannels = ["console"]\n{extra}')
    return path


def test_a_read_only_database_is_one_error_for_poll_digest_and_run(demo_template: Path) -> None:
    folder = Path(tempfile.mkdtemp(prefix="watcher-ro-"))
    try:
        folder.chmod(0o777)  # the folder is writable: only the file is not
        db = folder / "w.db"
        shutil.copy(demo_template, db)
        cfg = config(folder)
        watcher("feeds", "--config", str(cfg), cwd=folder)  # migrated while still writable
        db.chmod(0o444)
        cfg.chmod(0o644)
        as_nobody = os.geteuid() == 0  # root writes anything: run as nobody
        if as_nobody and shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: cannot make a file read-only")
        for command in ("poll", "digest", "run"):
            result = watcher(command, "--config", str(cfg), cwd=folder, as_nobody=as_nobody)
            one_error(result, f"database {db} is read-only for this user")
    finally:
        shutil.rmtree(folder)


def test_a_damaged_page_is_one_error(demo_template: Path, tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    shutil.copy(demo_template, db)
    with sqlite3.connect(db) as conn:
        root = conn.execute("select rootpage from sqlite_master where name = 'terms'").fetchone()[0]
        size = conn.execute("pragma page_size").fetchone()[0]
    conn.close()
    with open(db, "r+b") as f:  # the terms table's root page, in the middle of the file
        f.seek((root - 1) * size)
        f.write(b"\xde\xad\xbe\xef" * (size // 4))
    one_error(watcher("history", "--config", str(config(tmp_path)), cwd=tmp_path), f"database {db} is damaged")


@pytest.mark.parametrize("extra, needle", [
    ('[[feeds]]\nurl = "http://[::1/feed"\n', "feeds[1].url = 'http://[::1/feed'"),
    ('[[feeds]]\nurl = "http://example.org/x"\ninterval = "1000000000d"\n', "feeds[1].interval"),
    ('[email]\nhost = "127.0.0.1"\nfrom = "w@x.org"\nto = ["desk@x.org\\r\\nRCPT TO:<evil@x.org>"]\n', "email.to"),
], ids=["unclosed-ipv6", "huge-interval", "crlf-in-email-to"])
def test_config_values_that_used_to_crash_are_config_errors(tmp_path: Path, extra: str, needle: str) -> None:
    result = watcher("poll", "--config", str(config(tmp_path, extra=extra)), cwd=tmp_path)
    one_error(result, needle, code=2)


@pytest.mark.parametrize("args", [
    ["show", "99999999999999999999999"],
    ["history", "--since", "99999999d"],
    ["history", "--limit", "1e20"],
    ["history", "--limit", "100000000000000000000"],
    ["terms", "--as-of", "99999999d"],
    ["prune", "--older-than", "99999999d"],
], ids=lambda a: " ".join(a))
def test_out_of_range_arguments_are_errors(demo_template: Path, tmp_path: Path, args: list[str]) -> None:
    shutil.copy(demo_template, tmp_path / "w.db")
    result = watcher(*args, "--config", str(config(tmp_path)), cwd=tmp_path)
    assert result.returncode in (1, 2), result.stderr
    assert "Traceback" not in result.stderr and "rror: " in result.stderr, result.stderr


@pytest.mark.parametrize("body, needle", [
    ('<opml version="2.0"><body>' + "<outline text='x'>" * 5000 + '<outline xmlUrl="http://example.org/deep.xml"/>'
     + "</outline>" * 5000 + "</body></opml>", "added 1"),
    ('<opml version="2.0"><body><outline xmlUrl="http://[::1/feed"/>'
     '<outline xmlUrl="http://example.org/ok.xml"/></body></opml>', "not a valid URL"),
], ids=["5000-nested-outlines", "bad-ipv6-xmlurl"])
def test_odd_opml_files_import_without_a_traceback(tmp_path: Path, body: str, needle: str) -> None:
    (tmp_path / "list.opml").write_text(body)
    result = watcher("feeds", "--config", str(config(tmp_path)), "import", str(tmp_path / "list.opml"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert needle in result.stdout + result.stderr


def test_a_400_digit_retry_after_does_not_make_fetcher_get_raise(loopback: LoopbackServer) -> None:
    url = loopback.fault("/slow.xml", "retry_after", status=503, value="9" * 400)

    async def get():
        async with Fetcher(timeout=5) as fetcher:
            return await fetcher.get(url, allow_private=True)

    result = asyncio.run(get())
    assert result.status == 503 and result.retry_after is not None and result.retry_after > 86400
