"""Shared ids of the term vocabulary (TERMS.md): other modules import these, never retype them."""

from __future__ import annotations

CATEGORIES: tuple[str, ...] = (
    "ceasefire",
    "duration_phasing",
    "partial_scope",
    "humanitarian_pause",
    "prohibited_acts",
    "line_freeze",
    "troop_withdrawal",
    "buffer_zone",
    "territorial_status",
    "border_delimitation",
    "transit_corridor",
    "neutrality",
    "military_limits",
    "security_guarantees",
    "external_military_support",
    "monitoring_peacekeeping",
    "implementation_mechanism",
    "identity_ideology",
    "hostage_release",
    "prisoner_exchange",
    "humanitarian_access",
    "return_displaced",
    "economic_measures",
    "sanctions_relief",
    "amnesty_accountability",
    "reconstruction_reparations",
    "negotiations",
    "elections_transition",
    "constitutional_status",
    "normalization",
    "right_to_resume",
)

STANCES: tuple[str, ...] = (
    "proposed",
    "demanded",
    "accepted",
    "rejected",
    "under_discussion",
    "withdrawn",
    "reaffirmed",
    "in_effect",
    "violated",
)

UNITS: tuple[str, ...] = (
    "days", "hours", "weeks", "months", "years", "phases", "km", "km2", "meters", "miles",
    "troops", "hostages", "prisoners", "detainees", "remains", "trucks", "percent", "usd",
)

AGREEMENT = "agreement"  # proposer id of terms the parties concluded or announced together
