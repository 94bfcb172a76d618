"""The labelled corpus is well-formed, rewritten, and its folds are fixed; the held-out bench
refuses what it cannot score. Fast: the default run checks every file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "eval"
sys.path.insert(0, str(EVAL))

import dataset  # noqa: E402
import overlap  # noqa: E402
import validate  # noqa: E402
from folds import problems as fold_problems  # noqa: E402


def test_every_corpus_article_is_well_formed():
    """Fields, vocabulary ids, evidence in the text, unique ids and urls (eval/validate.py)."""
    files = validate.corpus_files()
    assert len(files) >= 300
    assert validate.check(files) == []


def test_the_validator_names_what_is_wrong(tmp_path):
    art = json.loads(validate.corpus_files()[0].read_text())
    art["expected"]["terms"] = [dict(art["expected"]["terms"][0], category="truce", evidence="not in it")] \
        if art["expected"]["terms"] else [{"conflict": "x", "category": "truce"}]
    bad = tmp_path / f"{art['id']}.json"
    bad.write_text(json.dumps(art))
    twin = tmp_path / "999.json"
    twin.write_text(json.dumps(dict(art, id="999")))
    msgs = "\n".join(validate.check([bad, twin]))
    assert "category 'truce' is not in the vocabulary" in msgs
    assert "is not in the text" in msgs
    assert "is used by" in msgs  # the same url twice


def test_no_article_shares_a_run_of_nine_words_with_its_original():
    prints = overlap._load_prints()
    for f in validate.corpus_files():
        art = json.loads(f.read_text())
        assert art["id"] in prints, f"{f.name} has no fingerprint of its original"
        assert overlap.shared_runs(art, prints[art["id"]]) == [], f.name


def test_the_overlap_checker_finds_a_copied_sentence():
    original = ("The two delegations agreed on Tuesday that the truce would be extended for another "
                "sixty days while talks on the withdrawal of forces continue in the capital.")
    art = {"title": "", "text": "Reports said the two delegations agreed on Tuesday that the truce would be "
                                "extended for another sixty days, officials added."}
    assert overlap.shared_runs(art, overlap.fingerprint(original))
    art["text"] = "Officials said the truce gets sixty more days, agreed by both delegations on Tuesday."
    assert overlap.shared_runs(art, overlap.fingerprint(original)) == []


def test_every_article_has_a_fixed_fold_and_no_chain_is_split():
    sets = ("dev", "corpus") if dataset.DEV.is_dir() else ("corpus",)
    arts = dataset.load(sets)
    folds = json.loads(dataset.FOLDS.read_text())["articles"]
    assert fold_problems(arts, folds) == []


def test_folds_keep_assigned_articles_and_place_new_chains_whole():
    arts = [{"id": f"{i:03d}", "_set": "corpus", "chain": c, "expected": {"terms": [], "conflicts": []}}
            for i, c in enumerate(["a", "a", "a", "b", "c", "c", "d"])]
    first = dataset.assign(arts[:4])
    more = dataset.assign(arts, first)
    assert all(more[k]["fold"] == v["fold"] for k, v in first.items())
    assert more["004"]["fold"] == more["005"]["fold"]


def _bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "bench" / "extraction.py"), *args],
                          capture_output=True, text=True, check=False)


def test_the_bench_refuses_a_missing_or_empty_folder(tmp_path):
    out = _bench("--folder", str(tmp_path / "absent"))
    assert out.returncode == 2 and "no such folder" in out.stderr
    out = _bench("--folder", str(tmp_path))
    assert out.returncode == 2 and "holds no labelled articles" in out.stderr


def test_the_bench_refuses_to_score_nothing():
    """--without that leaves no article would print a table of zeros as if it were a figure."""
    out = _bench("--extractor", "rules", "--sets", "dev", "--quick", "--without", "*")
    assert out.returncode == 2 and "no article of dev is left" in out.stderr


def test_only_and_without_together_score_what_both_allow():
    """--without is not dropped when --only is given: `--only '1???' --without '13??'`."""
    out = _bench("--extractor", "rules", "--sets", "dev", "--only", "00?", "--without", "001")
    assert out.returncode == 0, out.stderr
    row = next(line for line in out.stdout.splitlines() if line.startswith("00?"))
    assert row.split()[row.split().index("001") + 1] == "4"  # 002-005: n after the label


@pytest.mark.parametrize("first,second", [("first", "second"), ("round2/first", "round2/second"),
                                          ("round3/first", "round3/second"), ("round45/first", "round45/second"),
                                          ("round6/first", "round6/second")])
def test_the_published_agreement_figures_are_what_the_scorer_gives(first: str, second: str):
    out = _bench("--agreement", str(EVAL / "agreement" / first), str(EVAL / "agreement" / second))
    assert out.returncode == 0, out.stderr
    row = next(line for line in out.stdout.splitlines() if line.startswith("second vs first"))
    figures = row.split()[4:]  # n, then P R F1 strict proposer stance place no-term
    readme = (EVAL / "corpus" / "README.md").read_text()
    for name, value in zip(("F1", "strict F1", "proposer", "stance", "place"), figures[3:8], strict=True):
        assert value in readme, f"README does not give the agreement {name} {value}"
