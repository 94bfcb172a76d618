"""``watcher vocabulary``: the ids filters take (--conflict, --proposer, --category,
subscriptions), from the shipped gazetteer and the config's [gazetteer] additions."""

from __future__ import annotations

import json
from importlib import resources

import click

from watcher.cli.common import emit, fail, global_options, options, output_options, plural
from watcher.config import ConfigError, default_config_path, load_extension

KINDS = ("conflict", "actor", "place", "category", "stance")


def vocabulary_rows(extension: dict | None = None) -> list[dict]:
    """One row per id: kind, id, and the names or parties that explain it."""
    from watcher.digest.filters import known_ids
    from watcher.terms.vocabulary import STANCES

    data = json.loads((resources.files("watcher.terms") / "data" / "gazetteer.json").read_bytes())
    extra = (extension or {}).get("gazetteer") or {}
    known = known_ids(extension)
    conflicts = {**data["conflicts"], **(extra.get("conflicts") or {})}
    actors = {**data["actors"], **(extra.get("actors") or {})}
    places = {**data["places"], **(extra.get("places") or {})}
    rows = [{"kind": "conflict", "id": c, "names": conflicts.get(c, {}).get("names", [])[:3],
             "parties": conflicts.get(c, {}).get("parties", [])} for c in known["conflicts"]]
    rows += [{"kind": "actor", "id": a, "names": actors.get(a, {}).get("names", [])[:3]}
             for a in known["proposers"]]
    rows += [{"kind": "place", "id": p, "names": spec.get("names", [])[:3], "conflict": spec.get("conflict")}
             for p, spec in sorted(places.items())]
    rows += [{"kind": "category", "id": c} for c in known["categories"]]
    rows += [{"kind": "stance", "id": s} for s in STANCES]
    return rows


@click.command("vocabulary")
@click.option("--kind", "kinds", type=click.Choice(KINDS), multiple=True, help="Only these kinds (repeatable).")
@output_options
@global_options
def vocabulary_command(kinds: tuple[str, ...], output: str | None) -> None:
    """The ids filters take: conflicts, actors, places, categories and stances.

    Includes the [gazetteer] additions of the config when there is one."""
    path = options().get("config")
    extension: dict = {}
    if path is not None or default_config_path().exists():
        try:
            extension = load_extension(path or default_config_path())
        except ConfigError as err:
            fail(str(err), 2)
    rows = [r for r in vocabulary_rows(extension) if not kinds or r["kind"] in kinds]
    if output:
        emit(rows, output, ["kind", "id", "names", "parties", "conflict"] if output == "csv" else None)
        return
    for kind in KINDS:
        mine = [r for r in rows if r["kind"] == kind]
        if not mine:
            continue
        click.echo(f"{plural(len(mine), kind)}:")
        for r in mine:
            detail = ", ".join(r.get("names") or [])
            if r.get("parties"):
                detail += f" (parties: {', '.join(r['parties'])})"
            if r.get("conflict"):
                detail += f" ({r['conflict']})"
            click.echo(f"  {r['id']}" + (f"  — {detail}" if detail else ""))
        click.echo()
