"""Property-based tests (hypothesis) for what the other suites check only by example or by
idempotence: URL canonicalisation, text normalisation and hashing, term value comparison,
and the config loader. (Already covered elsewhere: canonical_url idempotence in
test_feeds.py, normalise_for_hash idempotence in test_article.py, place comparison in
test_ledger.py, duration round trip and a random [watcher] table in test_config.py.)

The default run takes 60 examples a property; the slow suite runs the same properties
with 1,500 (WATCHER_PROPERTY_EXAMPLES).
"""

from __future__ import annotations

import os
import string
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from watcher.config import ConfigError, load_config, parse_config, parse_duration
from watcher.feeds.urls import TRACKING_PARAMS, canonical_url
from watcher.ledger import merged_values, normalise_values, value_differences
from watcher.textnorm import content_hash, normalise_for_hash, split_sentences, text_diff

pytestmark = pytest.mark.timeout(120)

EXAMPLES = int(os.environ.get("WATCHER_PROPERTY_EXAMPLES", "60"))  # the slow suite sets 1500
FAST = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(max_examples=EXAMPLES * 10, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- URL canonicalisation ------------------------------------------------------------------

label = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=10)
hosts = st.lists(label, min_size=2, max_size=4).map(".".join)
segment = st.text(string.ascii_letters + string.digits + "-._~", min_size=1, max_size=8)
paths = st.lists(segment, max_size=4).map(lambda s: "/" + "/".join(s))
keys = st.text(string.ascii_lowercase, min_size=1, max_size=6).filter(
    lambda k: k not in TRACKING_PARAMS and not k.startswith(("utm_", "pk_", "mtm_", "hsa_", "at_custom")))
params = st.lists(st.tuples(keys, st.text(string.ascii_letters + string.digits, max_size=6)), max_size=4)
tracking = st.lists(st.sampled_from(["utm_source=rss", "utm_medium=feed", "fbclid=abc", "gclid=1", "ref=x",
                                     "at_medium=social", "CMP=share", "_ga=2.1"]), max_size=3)


def build(scheme: str, host: str, path: str, query: list[tuple[str, str]]) -> str:
    q = "&".join(f"{k}={v}" for k, v in query)
    return f"{scheme}://{host}{path}" + (f"?{q}" if q else "")


@FAST
@given(hosts, paths, params, tracking, st.text(max_size=8))
def test_tracking_parameters_and_fragments_never_make_a_second_url(host, path, query, junk, fragment) -> None:
    plain = canonical_url(build("https", host, path, query))
    pieces = [f"{k}={v}" for k, v in query]
    for i, t in enumerate(junk):  # tracking parameters anywhere in the query
        pieces.insert(min(i * 2, len(pieces)), t)
    noisy = f"https://{host}{path}" + ("?" + "&".join(pieces) if pieces else "")
    noisy += "#" + fragment.replace("#", "")
    assert canonical_url(noisy) == plain
    kept = urlsplit(plain).query
    assert kept == "&".join(f"{k}={v}" for k, v in query)  # the rest keep their order


@FAST
@given(hosts, paths, params, st.sampled_from(["http", "https"]))
def test_case_of_scheme_and_host_and_default_port_do_not_matter(host, path, query, scheme) -> None:
    base = canonical_url(build(scheme, host, path, query))
    port = ":80" if scheme == "http" else ":443"
    assert canonical_url(build(scheme.upper(), host.upper() + port, path, query)) == base
    assert canonical_url(build(scheme, host + ".", path, query)) == base  # trailing root dot
    assert urlsplit(base).hostname == host and urlsplit(base).scheme == scheme


@FAST
@given(hosts, st.lists(segment, min_size=1, max_size=4))
def test_dot_segments_and_escaped_unreserved_characters(host, segs) -> None:
    base = canonical_url(f"http://{host}/" + "/".join(segs))
    assert canonical_url(f"http://{host}/x/../" + "/./".join(segs)) == base
    escaped = "/".join("".join(f"%{ord(c):02x}" for c in s) for s in segs)
    assert canonical_url(f"http://{host}/{escaped}") == base


@FAST
@given(hosts, paths)
def test_different_paths_stay_different(host, path) -> None:
    assert canonical_url(f"https://{host}{path}") != canonical_url(f"https://{host}{path}/other-story")


@MANY
@given(st.text(max_size=200))
@example("http://[::1")
@example("http://host:99999/")
@example("https://\udcff.example/")
@example("http://a..b/")
def test_canonical_url_never_raises_and_keeps_scheme_and_host(text: str) -> None:
    out = canonical_url(text)
    again = canonical_url(out)
    assert again == out
    if out.startswith(("http://", "https://")) and out != text.strip():
        assert out.split("://")[0] == text.strip().split("://")[0].lower()


# --- text normalisation ----------------------------------------------------------------------

words = st.lists(st.text(string.ascii_letters + "éüß0123456789", min_size=1, max_size=9), min_size=1,
                 max_size=25)
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]
SPACES = [" ", "  ", "\t", "\u00a0", "\u2009", "\u202f"]


@FAST
@given(words, st.data())
def test_hash_ignores_invisible_characters_and_space_styles(ws, data) -> None:
    text = " ".join(ws)
    messy = ""
    for i, w in enumerate(ws):
        if i:
            messy += data.draw(st.sampled_from(SPACES))
        cut = data.draw(st.integers(0, len(w)))
        messy += w[:cut] + data.draw(st.sampled_from(INVISIBLE + [""])) + w[cut:]
    messy = data.draw(st.sampled_from(["", " ", "\n"])) + messy + data.draw(st.sampled_from(["", " \n", "\t"]))
    assert content_hash(messy) == content_hash(text)


@FAST
@given(words, st.integers(0, 24), st.text(string.ascii_letters, min_size=1, max_size=8))
def test_a_real_word_edit_changes_the_hash(ws, i, new) -> None:
    i %= len(ws)
    if ws[i] == new:
        return
    edited = [*ws]
    edited[i] = new
    # (a line of only date-like tokens, "0 Z0", is a date line and ignored: give it words)
    said = "Negotiators said "
    assert content_hash(said + " ".join(ws)) != content_hash(said + " ".join(edited))


@FAST
@given(st.lists(words.map(" ".join), min_size=1, max_size=6))
def test_paragraph_layout_is_kept(paragraphs) -> None:
    text = "\n\n".join(paragraphs)
    out = normalise_for_hash(text)
    assert out.count("\n") <= text.count("\n")
    # the paragraphs come out in order, word for word; only a short one (a possible date
    # line) may be dropped
    words_out, i = out.replace("\n", " ").split(), 0
    for p in paragraphs:
        w = p.split()
        if words_out[i:i + len(w)] == w:
            i += len(w)
        else:
            assert len(p) <= 100, p
    assert i == len(words_out)


sentences = st.lists(
    st.tuples(st.sampled_from(["The", "Kyiv", "Moscow", "A", "Talks"]), words.map(" ".join),
              st.sampled_from([".", "!", "?"])).map(lambda t: f"{t[0]} {t[1].lower()}{t[2]}"),
    min_size=1, max_size=6)


@FAST
@given(sentences)
def test_split_sentences_loses_no_text(parts) -> None:
    paragraph = " ".join(parts)
    out = split_sentences(paragraph)
    assert " ".join(out).split() == paragraph.split()
    assert len(out) <= len(parts)


@FAST
@given(sentences, sentences)
def test_text_diff_is_empty_only_for_equal_texts(a, b) -> None:
    ta, tb = " ".join(a), " ".join(b)
    assert text_diff(ta, ta) == ""
    diff = text_diff(ta, tb)
    assert (diff == "") == (" ".join(split_sentences(ta)) == " ".join(split_sentences(tb)))
    if diff:
        assert diff.startswith("--- v1\n+++ v2")


# --- term value comparison -------------------------------------------------------------------

places = st.lists(st.sampled_from(["donetsk", "luhansk", "kherson", "crimea", "gaza", "rafah", "kharkiv"]),
                  max_size=5)
number = st.builds(lambda v, u: {"value": v, "unit": u}, st.integers(1, 400),
                   st.sampled_from(["days", "weeks", "months", "hours", "hostages", "km", ""]))
values = st.builds(
    lambda p, n, party, text: {k: v for k, v in {"places": p, "numbers": n, "party": party, "text": text}.items()
                               if v},
    places, st.lists(number, max_size=3), st.sampled_from([None, "ukraine", "russia", "israel", "hamas"]),
    st.sampled_from([None, "1991 borders"]))


@FAST
@given(values)
def test_values_never_differ_from_themselves_in_any_spelling(v) -> None:
    assert value_differences(v, v) == []
    shuffled = {**v, "places": list(reversed(v.get("places", []))) * 2,
                "numbers": list(reversed(v.get("numbers", [])))}
    assert value_differences(v, shuffled) == [] and value_differences(shuffled, v) == []
    assert normalise_values(shuffled) == normalise_values(v)
    assert normalise_values(normalise_values(v)) == normalise_values(v)


@FAST
@given(values, values)
def test_merging_then_restating_is_no_change(old, new) -> None:
    merged = merged_values(old, new)
    assert value_differences(merged, new) == []  # the report just folded in says nothing new
    assert value_differences(merged, merged) == []
    assert merged_values(merged, new) == merged  # folding the same report twice is a no-op


@FAST
@given(st.integers(1, 50), st.sampled_from([("days", 1), ("weeks", 7), ("months", 30)]))
def test_the_same_duration_in_other_units_is_no_change(n, unit) -> None:
    name, days = unit
    in_days = {"numbers": [{"value": n * days, "unit": "days"}]}
    assert value_differences(in_days, {"numbers": [{"value": n, "unit": name}]}) == []
    assert value_differences(in_days, {"numbers": [{"value": n * days + 1, "unit": "days"}]})


@FAST
@given(values)
def test_an_empty_report_changes_nothing(v) -> None:
    assert value_differences(v, {}) == []
    assert normalise_values(merged_values(v, {})) == normalise_values(v)


# --- the config loader ------------------------------------------------------------------------

toml_scalars = st.one_of(st.booleans(), st.integers(-10, 10**6), st.floats(allow_nan=False, width=32),
                         st.text(max_size=12), st.sampled_from(["15m", "2h", "1d", "0s", "-5m", "x", "* * * * *"]))
toml_values = st.recursive(toml_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)
known_keys = ["database", "interval", "timeout", "concurrency", "per_host", "max_bytes", "workers",
              "allow_private", "channels", "schedule", "timezone", "url", "name", "topics", "host", "port",
              "security", "from", "to", "password", "password_env", "include", "exclude", "min_score"]
tables = st.dictionaries(st.sampled_from(known_keys) | st.text(max_size=8), toml_values, max_size=5)


@FAST
@given(st.fixed_dictionaries({}, optional={
    "watcher": tables, "digest": tables, "email": tables, "apprise": tables,
    "feeds": st.lists(tables, max_size=3) | toml_values,
    "topics": st.dictionaries(st.text(max_size=6), tables, max_size=2) | toml_values,
    "gazetteer": toml_values, "triggers": toml_values}))
def test_any_config_document_gives_a_config_or_a_config_error(doc) -> None:
    try:
        config = parse_config(doc, base=Path("/nonexistent-base"))
    except ConfigError as err:
        assert str(err)  # a message for the user
        assert "Traceback" not in str(err)
    else:
        assert config.watcher.interval > 0 and config.watcher.timeout > 0


@FAST
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_file_gives_a_config_or_a_config_error(raw) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.toml"
        path.write_bytes(raw)
        try:
            load_config(path)
        except ConfigError:
            pass


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_durations_are_refused(value: float) -> None:
    with pytest.raises(ConfigError):
        parse_config({"watcher": {"database": "w.db", "interval": value}}, base=Path("."))


@FAST
@given(st.text(max_size=20) | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.booleans())
def test_parse_duration_is_positive_or_value_error(value) -> None:
    try:
        seconds = parse_duration(value)
    except ValueError:
        return
    assert seconds > 0


@FAST
@given(st.sampled_from(["password", "PASSWORD", "passwd", "smtp_password", "pass"]),
       st.text(min_size=0, max_size=20).map(lambda s: "Zq9-secret-" + s))
def test_a_password_in_the_file_is_refused_without_echoing_it(key, secret) -> None:
    doc = {"watcher": {"database": "w.db"}, "email": {"host": "h", "from": "a@b", "to": ["c@d"], key: secret}}
    with pytest.raises(ConfigError) as caught:  # the right key or an unknown one: refused either way
        parse_config(doc, base=Path("."))
    assert "Zq9-secret-" not in str(caught.value)


# --- the slow suite: the same properties, many more examples ---------------------------------


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_many_examples() -> None:
    """This file's properties again, in a subprocess, with 25x the examples."""
    env = {**os.environ, "WATCHER_PROPERTY_EXAMPLES": "1500"}
    proc = subprocess.run([sys.executable, "-m", "pytest", __file__, "-q", "-m", "not slow", "-x"],
                          capture_output=True, text=True, env=env, timeout=1100)
    assert proc.returncode == 0, proc.stdout[-5000:]
