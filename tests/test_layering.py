"""The layers hold (issue 15): the store stores, the library never reaches up into the
command line, and a script can use the library without click or rich.

Imports are read from the source with ``ast``, every one of them (a lazy import inside a
function is still a dependency); a real process checks what a library run loads."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import watcher
from watcher.errors import WatcherError

PACKAGE = Path(watcher.__file__).parent

# What the store may import from the package: itself and the plain records below it.
STORE_MAY_IMPORT = ("watcher.store", "watcher.models", "watcher.errors")


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports(path: Path, *, top_level_only: bool = False, package: str | None = None) -> set[str]:
    """The modules a file imports (``from a import b`` gives ``a`` and ``a.b``; a relative
    import is resolved against the file's ``package``, by default the one it lies in); with
    ``top_level_only``, only those run when the module is imported (not inside a function,
    nor under ``if TYPE_CHECKING``)."""
    if package is None:
        package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # from . import x, from ..cli import y
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, module] if module else base)
            if module:
                found.add(module)
                found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def test_the_store_imports_nothing_above_it() -> None:
    """No pipeline, write stage, ledger, article, feeds, digest or CLI module: the store
    keeps rows, queries, schema and migrations, and decides nothing."""
    wrong = {
        name: sorted(m for m in imports(path) if m.startswith("watcher") and not within(m, STORE_MAY_IMPORT)
                     and m != "watcher")
        for name, path in modules().items() if within(name, ("watcher.store",))
    }
    assert not {k: v for k, v in wrong.items() if v}


def test_the_library_never_imports_the_command_line() -> None:
    """Only watcher.cli (and ``python -m watcher``) may import watcher.cli; nothing outside
    it imports click or rich when it is imported (rich may be imported where it prints)."""
    wrong = {}
    for name, path in modules().items():
        if within(name, ("watcher.cli", "watcher.__main__")):
            continue
        bad = [m for m in imports(path) if within(m, ("watcher.cli",))]
        bad += [m for m in imports(path, top_level_only=True) if within(m, ("click", "rich"))]
        if bad:
            wrong[name] = sorted(bad)
    assert not wrong


def test_only_the_store_talks_to_sqlite() -> None:
    """sqlite3 and sqlite-utils are the store's (the command line may name sqlite3's errors)."""
    wrong = {
        name: sorted(m for m in imports(path) if within(m, ("sqlite3", "sqlite_utils")))
        for name, path in modules().items() if not within(name, ("watcher.store", "watcher.cli"))
    }
    assert not {k: v for k, v in wrong.items() if v}


def test_the_layering_test_sees_imports() -> None:
    """The rule tests would pass on an empty reading: check the reader on known imports."""
    found = imports(PACKAGE / "cli" / "__init__.py", top_level_only=True)
    assert "click" in found and "watcher.cli.common" in found
    assert "watcher.textnorm.text_diff" in imports(PACKAGE / "record.py")


def test_the_layering_test_sees_relative_imports(tmp_path: Path) -> None:
    """``from ..cli import common`` in the store reaches up as surely as the absolute form."""
    module = tmp_path / "core.py"
    module.write_text("from ..cli import common\nfrom . import views\n\ndef f():\n    from .. import pipeline\n")
    found = imports(module, package="watcher.store")
    assert {"watcher.cli", "watcher.cli.common", "watcher.store.views", "watcher.pipeline"} <= found


# The stages and the records below them: no database, nothing of the pipeline or the
# features built on it (docs/architecture.md, "Layers").
STAGES = ("watcher.work", "watcher.workwarm", "watcher.workwarm_articles", "watcher.fetch", "watcher.netguard",
          "watcher.feeds", "watcher.article", "watcher.terms", "watcher.relevance", "watcher.relevance_model",
          "watcher.relevance_train", "watcher.linear", "watcher.ledger",
          "watcher.models", "watcher.errors", "watcher.textnorm", "watcher.safetext")
ABOVE_THE_STAGES = ("watcher.store", "watcher.pipeline", "watcher.record", "watcher.scheduler", "watcher.digest",
                    "watcher.report", "watcher.reprocess", "watcher.demo", "watcher.cli", "sqlite3", "sqlite_utils")


def test_the_stages_import_no_database_and_nothing_above_them() -> None:
    wrong = {
        name: sorted(m for m in imports(path) if within(m, ABOVE_THE_STAGES))
        for name, path in modules().items() if within(name, STAGES)
    }
    assert not {k: v for k, v in wrong.items() if v}


def test_every_library_error_is_a_watcher_error() -> None:
    from watcher.config import ConfigError
    from watcher.daemonlock import DaemonRunning
    from watcher.digest.channels import DeliveryError
    from watcher.opml import OpmlError
    from watcher.store import BadQuery, DatabaseReplaced, StoreError

    for error in (ConfigError, DaemonRunning, DeliveryError, OpmlError, StoreError, BadQuery, DatabaseReplaced):
        assert issubclass(error, WatcherError), error
    assert ConfigError("bad", None).exit_code == 2 and StoreError("x").exit_code == 1


@pytest.mark.parametrize("error, code", [("DaemonRunning('another daemon holds it')", 1),
                                          ("ConfigError('watcher.workers: expected a number')", 2)])
def test_a_library_error_reaching_the_command_is_one_error_line(error: str, code: int, tmp_path: Path) -> None:
    """Whatever WatcherError escapes a command is printed as `error: <message>`, no traceback."""
    script = (
        "import click\n"
        "from watcher.cli import cli, main\n"
        "from watcher.config import ConfigError\n"
        "from watcher.daemonlock import DaemonRunning\n"
        "@cli.command('boom')\n"
        f"def boom():\n    raise {error}\n"
        "import sys; sys.argv = ['watcher', 'boom']\n"
        "main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    message = error.split("'")[1]
    assert proc.returncode == code, proc.stderr
    assert proc.stderr == f"error: {message}\n"


def test_a_script_delivers_a_console_digest_without_rich(demo_template: Path, tmp_path: Path) -> None:
    """The library alone: with rich unimportable, a console digest of the demo's database
    prints as plain text, and nothing of the command line is loaded. (click cannot be
    blocked here: sqlite-utils, which the store uses, imports it itself.)"""
    script = (
        "import sys\n"
        "sys.modules['rich'] = None\n"
        "from pathlib import Path\n"
        "from watcher.config import parse_config\n"
        "from watcher.digest.service import deliver\n"
        "from watcher.store import Store\n"
        f"db = Path({str(demo_template)!r})\n"
        "config = parse_config({'watcher': {'database': str(db)}}, base=db.parent)\n"
        "store = Store.open(db, migrate=False)\n"
        "result = deliver(config, store, 'console', dry_run=True)\n"
        "store.close()\n"
        "print('LOADED', sorted(m for m, v in sys.modules.items() if v and m.startswith(('watcher.cli', 'rich'))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "terms on record" in proc.stdout
    assert "LOADED []" in proc.stdout
