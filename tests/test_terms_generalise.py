"""The term extractor on conflicts and story shapes the labelled dev set does not cover.

Short wire-style texts written for these tests (not taken from any article): conflict
assignment when big powers mediate or host talks, demonyms, venues that are not a term's
place, a story naming two conflicts, and stories that use "truce" about no war at all.
"""

from __future__ import annotations

import pytest

from watcher.terms import extract


def _has(e, conflict, category, proposer=None, places=None, stance=None):
    hits = [t for t in e.terms if t.conflict == conflict and t.category == category
            and (proposer is None or t.proposer == proposer)]
    got = sorted((t.conflict, t.category, t.proposer, t.stance, tuple(t.values["places"])) for t in e.terms)
    assert hits, f"no {conflict}/{category}/{proposer} in {got}"
    if places is not None:
        assert any(set(places) <= set(t.values["places"]) for t in hits), got
    if stance is not None:
        assert any(t.stance == stance for t in hits), got


def _only(e, *conflicts):
    got = {t.conflict for t in e.terms}
    assert got <= set(conflicts), f"unexpected conflicts {got}"


def _no_place(e, *pids):
    for t in e.terms:
        assert not set(pids) & set(t.values["places"]), (t.category, t.values["places"])


SYRIA_SOCHI = (
    "Russia-backed Syrian peace talks agree deal on new constitution\n\n"
    "A 50-strong commission representing most strands of Syrian society will draft a new constitution for "
    "the country, the UN and Russia have agreed at the end of a peace conference put together by Vladimir "
    "Putin in the Russian Black Sea resort of Sochi. The UN special envoy Staffan de Mistura faced intense "
    "criticism from the Syrian opposition for attending the conference, which the opposition boycotted on "
    "the basis that it was an attempt to supplant the UN peace process and marginalise their role in ending "
    "Syria's seven-year civil war."
)

SYRIA_IDLIB = (
    "Turkey and Russia agree ceasefire in Syria's Idlib\n\n"
    "MOSCOW (Reuters) - Turkish President Tayyip Erdogan and Russian President Vladimir Putin agreed on "
    "Thursday to a ceasefire in Syria's northwestern Idlib province, where a Syrian government offensive "
    "has displaced nearly a million people. Speaking after six hours of talks in the Kremlin, Putin said "
    "the truce would take effect at midnight. Under the deal, Russian and Turkish troops will begin joint "
    "patrols along the M4 highway and a security corridor six km deep will be set up on either side of it, "
    "the two leaders said."
)

SYRIA_SDF = (
    "Syria's government and Kurdish-led SDF sign integration deal\n\n"
    "DAMASCUS (AP) - Syria's interim President Ahmed al-Sharaa and the commander of the U.S.-backed Syrian "
    "Democratic Forces, Mazloum Abdi, signed an agreement on Monday to merge the Kurdish-led force into "
    "state institutions, the presidency said. The deal provides for a ceasefire across all Syrian territory "
    "and guarantees the return of all displaced Syrians to their towns and villages, according to the text "
    "released by the presidency. U.S. officials, who had mediated between the two sides, welcomed the "
    "agreement."
)

LIBYA_GENEVA = (
    "Libya's warring sides sign permanent ceasefire in Geneva\n\n"
    "GENEVA (Reuters) - Libya's two main warring factions signed a permanent ceasefire on Friday at "
    "UN-hosted talks in Geneva, the United Nations said. Under the agreement, all foreign fighters and "
    "mercenaries must leave Libya within three months, and military units on the front lines around Sirte "
    "will return to their bases, acting UN envoy Stephanie Williams told reporters. The deal was signed by "
    "five senior officers from the Tripoli-based Government of National Accord and five from Khalifa "
    "Haftar's Libyan National Army."
)

LIBYA_CAIRO = (
    "Egypt proposes Libya ceasefire; Tripoli government rejects it\n\n"
    "CAIRO (Reuters) - Egyptian President Abdel Fattah al-Sisi on Saturday proposed a ceasefire in Libya "
    "starting on Monday, as part of an initiative that also calls for the withdrawal of foreign mercenaries "
    "and the election of a leadership council. Sisi announced the plan in Cairo flanked by eastern "
    "commander Khalifa Haftar. The Tripoli-based Government of National Accord dismissed the proposal, "
    "saying its forces would press on towards Sirte."
)

KARABAKH_2020 = (
    "Armenia, Azerbaijan agree Russian-brokered deal to end Karabakh fighting\n\n"
    "YEREVAN/BAKU (Reuters) - Armenia and Azerbaijan agreed on Tuesday to end military operations in "
    "Nagorno-Karabakh under a deal brokered by Moscow, after six weeks of fighting. Under the agreement, "
    "announced by Russian President Vladimir Putin, about 2,000 Russian peacekeepers will be deployed along "
    "the line of contact and along the Lachin corridor linking the enclave to Armenia. Armenian Prime "
    "Minister Nikol Pashinyan called the deal \"incredibly painful\", while Azerbaijan's President Ilham "
    "Aliyev said it amounted to Armenia's capitulation."
)

ARMENIA_WASHINGTON = (
    "Armenia and Azerbaijan initial US-brokered peace deal at White House\n\n"
    "WASHINGTON (AP) - The leaders of Armenia and Azerbaijan initialled a peace agreement at the White "
    "House on Friday, pledging to end decades of conflict. Under the deal, the two countries agreed to "
    "open a transit route across Armenia's southern Syunik province linking Azerbaijan to its Nakhchivan "
    "exclave, to be developed by a U.S. company. Both sides also agreed to establish diplomatic relations, "
    "the White House said."
)

KARABAKH_1994 = (
    "Pashinyan says Armenia ready to sign peace treaty with Azerbaijan\n\n"
    "YEREVAN (Reuters) - Armenian Prime Minister Nikol Pashinyan said on Wednesday his country was ready "
    "to sign a peace treaty with Azerbaijan before the end of the year. The two countries fought a war in "
    "the early 1990s over Nagorno-Karabakh that ended with the 1994 ceasefire, and clashed again in 2020. "
    "Baku has demanded that Armenia change its constitution, which it says contains territorial claims "
    "to Azerbaijani land."
)

INDIA_PAKISTAN_CEASEFIRE = (
    "India and Pakistan agree ceasefire after four days of fighting\n\n"
    "NEW DELHI/ISLAMABAD (Reuters) - India and Pakistan agreed on Saturday to a full and immediate "
    "ceasefire after four days of missile and drone strikes, U.S. President Donald Trump said. India's "
    "foreign secretary said the two countries' military operations chiefs had agreed to stop all firing "
    "and military action on land, in the air and at sea from 5 p.m. Pakistan's Foreign Minister Ishaq Dar "
    "said the ceasefire covered the Line of Control in Kashmir."
)

INDIA_PAKISTAN_TALKS = (
    "Pakistan offers talks with India on Kashmir\n\n"
    "ISLAMABAD (Reuters) - Pakistan's Prime Minister Shehbaz Sharif said on Tuesday Islamabad was ready to "
    "hold talks with India on all outstanding issues, including Kashmir and the sharing of water. India's "
    "foreign ministry said any talks would only be about terrorism and the return of Pakistan-administered "
    "Kashmir."
)

THAI_CAMBODIA = (
    "Thailand and Cambodia agree to unconditional ceasefire at Malaysia talks\n\n"
    "PUTRAJAYA, Malaysia (Reuters) - Thailand and Cambodia agreed to an immediate and unconditional "
    "ceasefire from midnight on Monday, Malaysian Prime Minister Anwar Ibrahim said after hosting talks "
    "between the two countries' leaders in Putrajaya. Military commanders from both sides will meet on "
    "Tuesday, and a team of ASEAN observers will monitor the truce along the border near the Preah Vihear "
    "temple, Anwar said. Fighting along the disputed frontier has killed more than 30 people and displaced "
    "over 200,000."
)

TIGRAY_PRETORIA = (
    "Ethiopia, Tigray forces agree to cessation of hostilities\n\n"
    "PRETORIA (Reuters) - Ethiopia's government and Tigrayan forces agreed on Wednesday to a permanent "
    "cessation of hostilities, the African Union's mediator Olusegun Obasanjo said after ten days of talks "
    "in South Africa. Under the deal, Tigray People's Liberation Front fighters will disarm within 30 days, "
    "and the federal government will restore basic services to Mekelle and the rest of Tigray and allow "
    "unhindered humanitarian access, Obasanjo said."
)

MYANMAR_SHAN = (
    "Myanmar junta and ethnic rebels agree China-brokered truce\n\n"
    "(Reuters) - Myanmar's military junta and the Three Brotherhood Alliance of ethnic armed groups have "
    "agreed to a ceasefire in northern Shan State after talks hosted by China, Chinese foreign ministry "
    "spokesperson Mao Ning said on Friday. Both sides agreed to disengage their troops and to resolve "
    "disputes through peaceful negotiations, she said. The fighting near the Chinese border has displaced "
    "hundreds of thousands of people."
)

MYANMAR_QUAKE = (
    "Myanmar junta declares temporary ceasefire after earthquake\n\n"
    "(AP) - Myanmar's ruling junta declared a temporary ceasefire on Wednesday until April 22 to support "
    "relief efforts after last week's deadly earthquake, state television said. The announcement came "
    "after the National Unity Government, which leads the armed resistance, declared a two-week pause in "
    "offensive military operations in quake-hit areas. The military said it would still respond to attacks "
    "on its forces."
)

LEBANON_DEAL = (
    "Israel and Hezbollah agree ceasefire brokered by US and France\n\n"
    "BEIRUT/JERUSALEM (Reuters) - Israel and Lebanon's Hezbollah agreed to a ceasefire that took effect on "
    "Wednesday, ending more than a year of cross-border fighting. Under the deal, Israeli forces will "
    "withdraw from southern Lebanon over 60 days, while Hezbollah will end its armed presence south of the "
    "Litani River and the Lebanese army will deploy in the area, U.S. President Joe Biden said. A "
    "U.S.-chaired committee will monitor implementation of the truce."
)

ISRAEL_IRAN = (
    "Trump says Israel and Iran have agreed to a ceasefire\n\n"
    "WASHINGTON/TEHRAN (Reuters) - Israel and Iran have agreed to a complete ceasefire, U.S. President "
    "Donald Trump said on Monday, two days after U.S. bombers struck Iran's nuclear sites at Fordow and "
    "Natanz. Iranian Foreign Minister Abbas Araghchi said Tehran had no intention of continuing its "
    "strikes provided Israel stopped its attacks on Iran. Israel said it had agreed to the proposal after "
    "achieving its war aims."
)

IRAN_TALKS = (
    "Iran says no nuclear talks with US while Israeli strikes continue\n\n"
    "TEHRAN (Reuters) - Iran will only return to negotiations with the United States if Israel halts its "
    "strikes on Iranian territory, Foreign Minister Abbas Araghchi said on Saturday. Iranian lawmakers "
    "have also threatened to close the Strait of Hormuz, through which a fifth of the world's oil passes."
)

RUSSIA_MEDIATES_IRAN = (
    "Putin offers to mediate between Israel and Iran\n\n"
    "MOSCOW (Reuters) - Russian President Vladimir Putin offered on Friday to mediate between Iran and "
    "Israel, saying a ceasefire between the two countries must come first. Kremlin spokesman Dmitry Peskov "
    "told reporters Moscow was ready to host talks between Tehran and Israel and to help end the strikes "
    "on Iran's nuclear facilities."
)

ISTANBUL_SWAP = (
    "Russia and Ukraine agree large prisoner swap at Istanbul talks\n\n"
    "ISTANBUL (Reuters) - Russia and Ukraine agreed at talks in Istanbul on Friday to exchange 1,000 "
    "prisoners of war each, Turkish Foreign Minister Hakan Fidan said. The talks, held in the Ottoman-era "
    "Dolmabahce palace, were the first direct negotiations between the two sides since 2022."
)

TWO_CONFLICTS = (
    "Trump says he brokered two truces\n\n"
    "WASHINGTON (Reuters) - U.S. President Donald Trump said on Monday that Thailand and Cambodia had "
    "agreed to an immediate ceasefire after he spoke to both countries' leaders. In a separate "
    "announcement, the White House said Armenia and Azerbaijan had agreed to open a transit corridor "
    "through southern Armenia to Nakhchivan."
)

TRADE_TRUCE = (
    "US and China agree 90-day tariff truce\n\n"
    "GENEVA (Reuters) - The United States and China agreed on Monday to a 90-day truce in their trade war, "
    "with Washington cutting tariffs on Chinese goods to 30% and Beijing lowering its duties on U.S. "
    "imports to 10%, U.S. Treasury Secretary Scott Bessent said after talks in Geneva. Both sides agreed "
    "to keep negotiating on export controls and the two economies will hold further talks within weeks."
)

SPORTS_TRUCE = (
    "Shakhtar and Dynamo agree truce in transfer row\n\n"
    "KYIV (Reuters) - Ukrainian football clubs Shakhtar Donetsk and Dynamo Kyiv have agreed a truce in "
    "their row over player transfers, the Ukrainian Premier League said on Thursday. The two clubs will "
    "withdraw their complaints to the league and hold talks on a new transfer code, the league said."
)

TURKEY_SYRIA_MANBIJ = (
    "US brokers truce between Turkey-backed factions and SDF near Manbij\n\n"
    "QAMISHLI, Syria (Reuters) - Turkey-backed Syrian factions and the Kurdish-led Syrian Democratic "
    "Forces agreed to a ceasefire around the northern city of Manbij after U.S. mediation, SDF commander "
    "Mazloum Abdi said on Tuesday. Under the arrangement, SDF fighters will withdraw from Manbij to the "
    "east of the Euphrates river, he said."
)


def _case(name, text, conflicts, *expected):
    """A story, the conflicts its terms may name, and the terms it must give: each a
    (conflict, category, proposer) tuple, with a dict of `_has` options as a fourth item."""
    return pytest.param(text, conflicts, expected, id=name)


@pytest.mark.parametrize(("text", "conflicts", "expected"), [
    _case("syria_idlib_russia_turkey_deal", SYRIA_IDLIB, ["syria"],
          ("syria", "ceasefire", "agreement", {"places": ["idlib"]})),
    _case("syria_sdf_deal", SYRIA_SDF, ["syria"],
          ("syria", "ceasefire", "agreement"),
          ("syria", "return_displaced", "agreement")),
    _case("libya_geneva_ceasefire", LIBYA_GENEVA, ["libya"],
          ("libya", "ceasefire", "agreement"),
          ("libya", "troop_withdrawal", "agreement")),
    _case("karabakh_russian_brokered_deal", KARABAKH_2020, ["armenia-azerbaijan"],
          ("armenia-azerbaijan", "ceasefire", "agreement"),
          ("armenia-azerbaijan", "monitoring_peacekeeping", "agreement", {"places": ["lachin-corridor"]})),
    _case("armenia_azerbaijan_white_house_deal", ARMENIA_WASHINGTON, ["armenia-azerbaijan"],
          ("armenia-azerbaijan", "transit_corridor", "agreement", {"places": ["nakhchivan", "syunik"]}),
          ("armenia-azerbaijan", "normalization", "agreement")),
    _case("india_pakistan_ceasefire", INDIA_PAKISTAN_CEASEFIRE, ["india-pakistan"],
          ("india-pakistan", "ceasefire", "agreement")),
    _case("india_pakistan_talks_offer", INDIA_PAKISTAN_TALKS, ["india-pakistan"],
          ("india-pakistan", "negotiations", "pakistan", {"stance": "proposed"})),
    _case("thailand_cambodia_malaysia_talks", THAI_CAMBODIA, ["thailand-cambodia"],
          ("thailand-cambodia", "ceasefire", "agreement"),
          ("thailand-cambodia", "monitoring_peacekeeping", None, {"places": ["preah-vihear"]})),
    _case("tigray_pretoria_deal", TIGRAY_PRETORIA, ["ethiopia-tigray"],
          ("ethiopia-tigray", "ceasefire", "agreement"),
          ("ethiopia-tigray", "military_limits", "agreement"),
          ("ethiopia-tigray", "humanitarian_access", "agreement")),
    _case("myanmar_china_brokered_truce", MYANMAR_SHAN, ["myanmar"],
          ("myanmar", "ceasefire", "agreement", {"places": ["shan"]})),
    _case("myanmar_quake_ceasefire", MYANMAR_QUAKE, ["myanmar"],
          ("myanmar", "ceasefire", "myanmar-junta")),
    _case("israel_hezbollah_deal", LEBANON_DEAL, ["israel-hezbollah"],
          ("israel-hezbollah", "ceasefire", "agreement"),
          ("israel-hezbollah", "troop_withdrawal", "agreement", {"places": ["southern-lebanon"]})),
    _case("israel_iran_ceasefire", ISRAEL_IRAN, ["israel-iran"],
          ("israel-iran", "ceasefire", None)),
    # talks offered on a condition (TERMS.md: the condition gates the offer, the talks stay proposed)
    _case("iran_talks_precondition", IRAN_TALKS, ["israel-iran"],
          ("israel-iran", "negotiations", "iran")),
    _case("russia_mediating_elsewhere", RUSSIA_MEDIATES_IRAN, ["israel-iran"],
          ("israel-iran", "ceasefire", "russia")),
    _case("two_conflicts_in_one_story", TWO_CONFLICTS, ["thailand-cambodia", "armenia-azerbaijan"],
          ("thailand-cambodia", "ceasefire", "agreement"),
          ("armenia-azerbaijan", "transit_corridor", "agreement", {"places": ["nakhchivan"]})),
    _case("turkey_backed_factions_us_mediation", TURKEY_SYRIA_MANBIJ, ["syria"],
          ("syria", "ceasefire", "agreement", {"places": ["manbij"]}),
          ("syria", "troop_withdrawal", "agreement", {"places": ["manbij"]})),
])
def test_story(text, conflicts, expected):
    e = extract(text)
    _only(e, *conflicts)
    for conflict, category, proposer, *options in expected:
        _has(e, conflict, category, proposer, **(options[0] if options else {}))


def test_syria_sochi_conference():
    e = extract(SYRIA_SOCHI)
    _only(e, "syria")
    _has(e, "syria", "constitutional_status", "agreement")
    _no_place(e, "black-sea")


def test_libya_egypt_initiative():
    e = extract(LIBYA_CAIRO)
    _only(e, "libya")
    _has(e, "libya", "ceasefire", "egypt", stance="proposed")
    _has(e, "libya", "troop_withdrawal", "egypt")
    t = next(t for t in e.terms if t.category == "ceasefire")
    assert {"actor": "libya-gnu", "stance": "rejected"} in t.responses


def test_historical_ceasefire_is_background():
    e = extract(KARABAKH_1994)
    _only(e, "armenia-azerbaijan")
    _has(e, "armenia-azerbaijan", "negotiations", "armenia")
    assert not any(t.category == "ceasefire" for t in e.terms)


def test_istanbul_is_a_venue():
    e = extract(ISTANBUL_SWAP)
    _only(e, "russia-ukraine")
    _has(e, "russia-ukraine", "prisoner_exchange", "agreement")
    assert all(t.values["places"] == [] for t in e.terms)


@pytest.mark.parametrize("text", [TRADE_TRUCE, SPORTS_TRUCE], ids=["trade", "sports"])
def test_truce_about_no_war_gives_no_terms(text):
    e = extract(text)
    assert e.terms == [] and not e.relevant
