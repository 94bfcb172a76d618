"""The chain bench's renumbering (eval/renumber.py): a set with four-digit ids, copied so the
chain harness (which reads `NNN.json` and `**NNN**` only) sees every article and chain in the
labelled order, with nothing but the ids changed. Fast: no harness run, only its readers."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "eval"))

from renumber import RenumberError, mapping, restore_ids, write_folder  # noqa: E402

RUN = ROOT.parent / "shared" / "eval" / "chaineval" / "run.py"

CHAINS_MD = """# Chains
Article ids are the `NNN.json` files; **2025** is a year, 1101 in plain text stays.

## A-chain (three- and four-digit)
- **1101** (2024-01-01): first, as in 1101's notes.
- **101** (2024-01-02): follows **1101**.

## B-chain
- **102** (2024-02-01) then **1102** (2024-02-03).

## C-chain (four-digit only)
- **1201** (2024-03-01).
"""


def _article(aid: str, chain: str, date: str) -> dict:
    return {"id": aid, "chain": chain, "date": date, "source": "example.org", "title": f"Story {aid}",
            "text": f"Text of {aid}.", "notes": "as 1101", "expected": {"relevant": True, "terms": [
                {"conflict": "x-y", "proposer": "x", "category": "ceasefire", "stance": "proposed"}]}}


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    for aid, chain, date in [("101", "A-chain", "2024-01-02"), ("1101", "A-chain", "2024-01-01"),
                             ("102", "B-chain", "2024-02-01"), ("1102", "B-chain", "2024-02-03"),
                             ("1201", "C-chain", "2024-03-01")]:
        (src / f"{aid}.json").write_text(json.dumps(_article(aid, chain, date)))
    (src / "CHAINS-tiny.md").write_text(CHAINS_MD)
    return src


def _harness():
    if not RUN.exists():
        pytest.skip(f"{RUN} is missing")
    spec = importlib.util.spec_from_file_location("chaineval_run", RUN)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def _order_any_digits(folder: Path) -> dict[str, list[str]]:
    """What the CHAINS files say, read as the harness does but with ids of any length."""
    order: dict[str, list[str]] = {}
    current = None
    for md in sorted(folder.glob("CHAINS*.md")):
        for line in md.read_text().splitlines():
            m = re.match(r"^##\s+([A-Za-z0-9][\w.-]*)", line)
            if m:
                current = order.setdefault(m.group(1), [])
            elif current is not None:
                current += [a for a in re.findall(r"\*\*(\d+)\*\*", line) if a not in current]
    return order


def test_mapping_is_fixed_unique_and_reversible() -> None:
    ids = mapping(["1102", "101", "1101", "102", "1201"])
    assert ids == {"1101": "001", "1102": "002", "1201": "003"}
    assert len(set(ids.values())) == len(ids) and not set(ids.values()) & {"101", "102"}
    assert all(re.fullmatch(r"\d{3}", v) for v in ids.values())
    assert mapping(["1201", "102", "1101", "1102", "101"]) == ids  # the set decides, not the order
    assert {v: k for k, v in ids.items()}.keys() == set(ids.values())


def test_too_many_four_digit_ids_is_refused() -> None:
    with pytest.raises(RenumberError, match="1 ids to renumber but only 0 free"):
        mapping([f"{n:03d}" for n in range(1, 1000)] + ["1001"])


def test_renumbered_folder_reads_back_with_the_same_chains_and_order(tiny: Path, tmp_path: Path) -> None:
    run = _harness()
    dest = tmp_path / "dest"
    ids = write_folder(tiny, dest)
    back = {v: k for k, v in ids.items()}
    assert len(ids) == 3 and len(back) == 3
    chains = run.load_folder(dest)  # the harness's own reader: it now sees all five
    assert {c: sorted(back.get(a.id, a.id) for a in arts) for c, arts in chains.items()} == {
        "A-chain": ["101", "1101"], "B-chain": ["102", "1102"], "C-chain": ["1201"]}
    got = {c: [back.get(a, a) for a in order] for c, order in run.chains_md_order(dest).items()}
    assert got == _order_any_digits(tiny) == {"A-chain": ["1101", "101"], "B-chain": ["102", "1102"],
                                               "C-chain": ["1201"]}
    for p in tiny.glob("*.json"):  # nothing but the id changed
        before = json.loads(p.read_text())
        after = json.loads((dest / f"{ids.get(p.stem, p.stem)}.json").read_text())
        assert after == before | {"id": ids.get(p.stem, p.stem)}
    md = (dest / "CHAINS-tiny.md").read_text()
    assert "**2025**" in md and "1101 in plain text" in md and "1101's notes" in md and "**1101**" not in md


def test_left_out_articles_are_not_copied_and_the_mapping_stays(tiny: Path, tmp_path: Path) -> None:
    full = write_folder(tiny, tmp_path / "full")
    part = write_folder(tiny, tmp_path / "part", keep={"101", "1101", "1201"})
    assert part == full
    assert sorted(p.name for p in (tmp_path / "part").glob("*.json")) == sorted(
        f"{full.get(a, a)}.json" for a in ("101", "1101", "1201"))


def test_report_ids_map_back() -> None:
    report = {"order": {"A": ["001", "101"]}, "variants": {"empty": {
        "per_article": [{"chain": "A", "article": "001", "gold": 2}],
        "changes": [{"label": "001", "summary": "x"}, {"label": None}]}}}
    out = restore_ids(report, {"001": "1101"})
    assert out["order"] == {"A": ["1101", "101"]}
    assert out["variants"]["empty"]["per_article"][0]["article"] == "1101"
    assert [c["label"] for c in out["variants"]["empty"]["changes"]] == ["1101", None]


def test_the_corpus_renumbers_into_every_chain(tmp_path: Path) -> None:
    run = _harness()
    src = ROOT / "eval" / "corpus"
    ids = write_folder(src, tmp_path / "corpus")
    back = {v: k for k, v in ids.items()}
    assert ids and all(len(k) == 4 for k in ids)
    arts = {p.stem: json.loads(p.read_text())["chain"] for p in src.glob("*.json")}
    chains = run.load_folder(tmp_path / "corpus")
    assert sum(map(len, chains.values())) == len(arts)
    assert {back.get(a.id, a.id): c for c, xs in chains.items() for a in xs} == arts
    named = _order_any_digits(src)
    got = run.chains_md_order(tmp_path / "corpus")
    assert {c: [back.get(a, a) for a in o] for c, o in got.items()} == named


def test_a_folder_without_room_names_itself(tmp_path: Path) -> None:
    for n in [*range(1, 1000), 1001]:
        (tmp_path / f"{n:03d}.json").write_text(json.dumps({"id": f"{n:03d}", "chain": "c"}))
    with pytest.raises(RenumberError, match=f"{tmp_path}: 1 ids to renumber but only 0 free"):
        write_folder(tmp_path, tmp_path / "out")


def _chain_order(run, dest: Path, back: dict[str, str], ids: set[str]) -> dict[str, list[str]]:
    """The harness's CHAINS order, original ids, only the articles of the set."""
    return {c: [back.get(a, a) for a in o if back.get(a, a) in ids] for c, o in run.chains_md_order(dest).items()}


def test_an_id_that_is_not_all_digits_keeps_its_place_in_the_chain(tmp_path: Path) -> None:
    """`042a` is renumbered like a four-digit id, and its bold mention in CHAINS with it: else
    the harness would put it after the listed articles, by date, not where the labeller did."""
    run = _harness()
    src = tmp_path / "src"
    src.mkdir()
    for aid, date in [("042a", "2024-01-01"), ("101", "2024-01-01")]:
        (src / f"{aid}.json").write_text(json.dumps(_article(aid, "A-chain", date)))
    (src / "CHAINS-x.md").write_text("## A-chain\n- **042a** (2024-01-01).\n- **101** (2024-01-01).\n")
    ids = write_folder(src, tmp_path / "dest")
    assert set(ids) == {"042a"}
    back = {v: k for k, v in ids.items()}
    assert _chain_order(run, tmp_path / "dest", back, {"042a", "101"}) == {"A-chain": ["042a", "101"]}


def test_a_bold_id_of_another_set_is_not_given_to_a_renumbered_article(tmp_path: Path) -> None:
    """CHAINS text may name an article of another set (`**001**` of dev): a renumbered id must
    not take that slot, or the harness reads the mention as this set's article, out of order."""
    run = _harness()
    src = tmp_path / "src"
    src.mkdir()
    for aid, date in [("101", "2024-01-01"), ("1101", "2024-01-02")]:
        (src / f"{aid}.json").write_text(json.dumps(_article(aid, "A-chain", date)))
    (src / "CHAINS-x.md").write_text("## A-chain\nFollows dev's **001**.\n- **101** (2024-01-01).\n"
                                     "- **1101** (2024-01-02).\n")
    ids = write_folder(src, tmp_path / "dest")
    assert ids["1101"] != "001"
    back = {v: k for k, v in ids.items()}
    assert _chain_order(run, tmp_path / "dest", back, {"101", "1101"}) == {"A-chain": ["101", "1101"]}
    assert "dev's **001**" in (tmp_path / "dest" / "CHAINS-x.md").read_text()


def test_the_chain_bench_refuses_a_without_that_leaves_no_article() -> None:
    """--without '*' copied empty folders, scored nothing and ended with exit 0 and no figure."""
    if not RUN.exists():
        pytest.skip(f"{RUN} is missing")
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "chains_heldout.py"), "--sets", "dev",
                          "--without", "*"], capture_output=True, text=True, check=False, timeout=120)
    assert out.returncode == 2 and "no article of dev is left" in out.stderr, out.stdout + out.stderr
