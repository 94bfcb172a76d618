"""The learned feed-stage relevance filter: it loads offline without scikit-learn, passes
the stories the topic rules miss and not the news around them, and `watcher poll` fetches
what it passes unless the config turns it off. Headlines here are written for these tests,
not taken from the labelled corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from watcher.config import parse_config
from watcher.demo import Story, article_page, rss_feed
from watcher.loopback import LoopbackServer
from watcher.relevance import default_topic, score_entry
from watcher.relevance_model import features, load
from watcher.store import Store

# stories that state or discuss a term in words the topic rules do not list
MISSED_BY_RULES = [
    ("Moscow pulls out of Black Sea grain deal, says its demands were ignored",
     "The Kremlin said it would no longer guarantee safe passage for ships carrying Ukrainian grain."),
    ("Lebanon cabinet backs army plan to disarm Hezbollah by year end",
     "Ministers approved a phased plan under which the group would hand over its heavy weapons."),
    ("Kyiv proposes moratorium on strikes against power plants",
     "Ukraine's foreign minister said both sides should stop hitting energy infrastructure for 30 days."),
]
UNRELATED = [
    ("Apple unveils new iPhone with faster chip", "The company said the device will ship next month."),
    ("Stocks rally as oil prices fall", "Markets rose on Monday after a weak jobs report."),
    ("Airline resumes flights to Tel Aviv after two-week suspension",
     "The carrier said daily service would restart on Friday."),
    ("Arsenal beat Chelsea 2-1 in the London derby", "A late goal settled the match at the Emirates."),
    ("Central bank holds interest rates steady", "Policymakers said inflation remained above target."),
]


def test_the_model_loads_offline_without_scikit_learn_or_numpy() -> None:
    code = (
        "import sys\n"
        "sys.modules['sklearn'] = None; sys.modules['numpy'] = None; sys.modules['scipy'] = None\n"
        "import socket\n"
        "def refuse(*a, **k): raise OSError('no network')\n"
        "socket.socket.connect = refuse\n"
        "from watcher.relevance import default_topic, score_entry\n"
        f"r = score_entry(*{MISSED_BY_RULES[0]!r}, '', [default_topic()])\n"
        "print(r.relevant, r.matched[-1].startswith('model:'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]


def test_loaded_once_per_process() -> None:
    assert load() is load()
    assert 0.0 < load().threshold < 1.0 and load().linear.weights


@pytest.mark.parametrize(("title", "summary"), MISSED_BY_RULES)
def test_passes_stories_the_rules_miss(title: str, summary: str) -> None:
    assert not score_entry(title, summary, "", [default_topic(model=False)]).relevant
    rel = score_entry(title, summary, "", [default_topic()])
    assert rel.relevant and rel.topic == "ceasefire" and rel.matched[-1].startswith("model:")


@pytest.mark.parametrize(("title", "summary"), UNRELATED)
def test_does_not_pass_unrelated_news(title: str, summary: str) -> None:
    assert not score_entry(title, summary, "", [default_topic()]).relevant


def test_rules_or_model_keeps_the_rules_and_their_vetoes() -> None:
    topic = default_topic()
    rel = score_entry("Truce agreed in Gaza", "", "", [topic])
    assert rel.relevant and rel.matched == ["title:truce"]  # the rules decided; no model entry
    # an exclude phrase vetoes the topic: the model does not bring it back
    vetoed = score_entry("Armistice Day: leaders lay wreaths for peace", "", "", [topic])
    assert not vetoed.relevant and vetoed.matched == ["excluded:armistice day"]
    # a topic of the user's that does not ask for the model gets rules only
    own = default_topic(name="mine", model=False)
    assert not score_entry(*MISSED_BY_RULES[0], "", [own]).relevant


def test_fast_scoring_equals_the_feature_table() -> None:
    m = load()
    for title, summary in MISSED_BY_RULES + UNRELATED + [("", ""), ("Ceasefire — «talks»", "x" * 2000)]:
        assert m.probability(title, summary) == pytest.approx(m.linear.prob(features(title, summary, m)), abs=1e-12)


def test_config_switch_and_per_topic_key(tmp_path: Path) -> None:
    default = parse_config({}, base=tmp_path)
    assert default.watcher.relevance_model and default.topics["ceasefire"].model
    off = parse_config({"watcher": {"relevance_model": False}}, base=tmp_path)
    assert not off.topics["ceasefire"].model
    own = parse_config({"topics": {"a": {"include": ["truce"]}, "b": {"include": ["truce"], "model": True}}},
                       base=tmp_path)
    assert not own.topics["a"].model and own.topics["b"].model
    both_off = parse_config({"watcher": {"relevance_model": False},
                             "topics": {"b": {"include": ["truce"], "model": True}}}, base=tmp_path)
    assert not both_off.topics["b"].model


def _poll(loopback: LoopbackServer, tmp_path: Path, model: bool) -> tuple[list[dict], int]:
    story = Story("grain", MISSED_BY_RULES[0][0],
                  MISSED_BY_RULES[0][1] + "\n\nShipping firms said insurers would stop covering "
                  "voyages to Odesa until a new arrangement was agreed.",
                  datetime(2025, 7, 18, 9, 0, tzinfo=UTC))
    weather = Story("weather", "Sunny spells and showers for the weekend",
                    "Forecasters expect a dry Saturday and rain on Sunday across the region.",
                    datetime(2025, 7, 18, 8, 0, tzinfo=UTC))
    for s in (story, weather):
        loopback.add(f"/world/{s.slug}.html", article_page(s), content_type="text/html; charset=utf-8")
    loopback.add("/feed.xml", rss_feed([story, weather], loopback.base_url))
    db = tmp_path / "w.db"
    config = tmp_path / "config.toml"
    config.write_text(f'[watcher]\ndatabase = "{db}"\nallow_private = true\nworkers = 1\n'
                      f"relevance_model = {json.dumps(model)}\n\n"
                      f'[[feeds]]\nurl = "{loopback.url("/feed.xml")}"\nname = "Wire"\n')
    proc = subprocess.run([sys.executable, "-m", "watcher", "poll", "--config", str(config)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    store = Store.open(db)
    try:
        rows = store.query("select url, relevance_matched from articles")
    finally:
        store.close()
    return rows, loopback.hits("/world/grain.html")


def test_watcher_poll_fetches_an_entry_only_the_model_passes(loopback: LoopbackServer, tmp_path: Path) -> None:
    rows, hits = _poll(loopback, tmp_path, model=True)
    assert hits == 1 and loopback.hits("/world/weather.html") == 0
    (row,) = rows
    assert row["url"].endswith("/world/grain.html") and "model:" in row["relevance_matched"]


def test_watcher_poll_with_the_model_off_uses_the_rules_alone(loopback: LoopbackServer, tmp_path: Path) -> None:
    rows, hits = _poll(loopback, tmp_path, model=False)
    assert hits == 0 and rows == []


def test_training_is_deterministic(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    from watcher import relevance_train as rt

    items = [rt.Item(t, s, "relevant", f"c{i}", i % 3 + 1, False) for i, (t, s) in enumerate(MISSED_BY_RULES * 4)]
    items += [rt.Item(t, s, "no_terms", f"n{i}", i % 3 + 1, False) for i, (t, s) in enumerate(UNRELATED * 3)]
    tables = ({}, {}, {})
    a, b = rt.fit(items, tables), rt.fit(items, tables)
    rt.save(a, tmp_path / "a.json.gz")
    rt.save(b, tmp_path / "b.json.gz")
    assert (tmp_path / "a.json.gz").read_bytes() == (tmp_path / "b.json.gz").read_bytes()


def test_a_held_out_run_can_name_its_own_feed_filter(tmp_path: Path) -> None:
    """The shipped filter was fitted on every labelled article, so a held-out run of the
    pipeline over them (bench/chains_heldout.py, through `watcher poll`) must be able to use
    a filter fitted without the scored fold: $WATCHER_RELEVANCE_MODEL names its file, and
    "none" leaves the rules alone, as $WATCHER_TERMS_MODEL does for the extractor."""
    from watcher.relevance_train import save

    never = load().__class__.from_json(load().to_json())
    never.threshold = 1.0  # a probability below 1 never reaches it
    save(never, tmp_path / "never.json.gz")
    code = (
        "from watcher.relevance import default_topic, score_entry\n"
        f"print(score_entry(*{MISSED_BY_RULES[0]!r}, '', [default_topic()]).relevant)\n"
    )
    got = {}
    for name, value in (("shipped", None), ("none", "none"), ("file", str(tmp_path / "never.json.gz"))):
        env = {k: v for k, v in os.environ.items() if k != "WATCHER_RELEVANCE_MODEL"}
        if value is not None:
            env["WATCHER_RELEVANCE_MODEL"] = value
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
        assert out.returncode == 0, out.stderr
        got[name] = out.stdout.strip()
    assert got == {"shipped": "True", "none": "False", "file": "False"}


def test_the_threshold_sweep_counts_as_the_rates_do() -> None:
    """choose_threshold's one-pass sweep gives, at its threshold, the rates `_rates` counts
    item by item, and no other threshold within the budgets lets more relevant items through."""
    import random

    from watcher.relevance_train import FEED_BUDGET, NO_TERM_FACTOR, Item, _rates, choose_threshold

    rng = random.Random(7)
    items = [Item("t", "s", rng.choice(["relevant", "no_terms", "feed"]), rng.choice(["feeds/a.rss", "dev"]),
                  1, rng.random() < 0.3, str(n)) for n in range(300)]
    # relevant items likelier, with overlap: the budgets bind somewhere inside
    probs = [round(rng.random() * 0.6 + (0.39 if i.kind == "relevant" else 0.0), 3) for i in items]
    t, rates = choose_threshold(items, probs)
    assert 0 < t < 1.0  # the data leaves a real choice

    def at(u: float) -> dict[str, float]:
        return _rates(items, [i.rules or p >= u for i, p in zip(items, probs, strict=True)])

    assert rates == at(t)
    base = at(2.0)
    n_no_terms = sum(i.kind == "no_terms" for i in items)
    for u in {round(p, 4) for p in probs}:
        r = at(u)
        if r["no_terms"] <= NO_TERM_FACTOR * max(base["no_terms"], 1 / n_no_terms) \
                and r["feed"] <= base["feed"] + FEED_BUDGET:
            assert r["relevant"] <= rates["relevant"]
