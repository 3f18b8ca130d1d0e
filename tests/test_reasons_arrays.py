"""The Reasons and Next step worked out for a whole scorecard at once say what the rule,
applied to one customer's details (what `explain` prints), says."""

from __future__ import annotations

import pytest

from sheets_health.model import MeasureScore, OutcomeScore, Rag
from sheets_health.score_rows import Card
from sheets_health.scoring import (
    _driver_text,
    _first_actions,
    _loss_texts,
    round_score,
    score_customers,
)
from tests.random_sheet import TODAY, random_sheet


def _by_the_rule(card: Card, details: tuple[MeasureScore, ...], limit: int | None
                 ) -> list[tuple[int, MeasureScore]]:
    """A customer's measures that cost at least one rounded point, most first (ties keep
    Scorecard order), from its details alone."""
    ranked = sorted(enumerate(details), key=lambda jd: -jd[1].points_lost)
    costly = [(j, d) for j, d in ranked if round_score(d.points_lost) >= 1]
    return costly[:limit]


def _outcomes(seed: int) -> list[OutcomeScore]:
    model, raw = random_sheet(seed)
    scores = score_customers(model, raw, TODAY)
    return [o for s in scores.values() for o in s.outcomes if o.measures]


@pytest.mark.parametrize("seed", range(6))
def test_each_customer_s_drivers_and_next_step_follow_its_details(seed: int) -> None:
    outcomes = _outcomes(seed)
    assert len(outcomes) > 300
    named = 0
    for outcome in outcomes:
        card, row = outcome.measures.card, outcome.measures.row  # type: ignore[attr-defined]
        details = tuple(outcome.measures)
        for limit in (1, 3, 5):
            expected = "; ".join(
                _driver_text(card, j, d.raw, d.sub_score, d.note,
                             f" −{round_score(d.points_lost)} pts")
                for j, d in _by_the_rule(card, details, limit))
            assert _loss_texts(card, limit)[row] == expected, (outcome.scorecard, row, limit)
            named += expected.count(" pts")
        action = next((card.measures[j].action_when_red
                       for j, _ in _by_the_rule(card, details, None)
                       if card.measures[j].action_when_red), "")
        assert _first_actions(card)[row] == action
    assert named > 1000  # the sheets do name drivers: the comparison is not of empty texts


def test_a_driver_names_the_value_as_typed_and_its_target() -> None:
    outcomes = _outcomes(2)
    texts = {t for o in outcomes for t in
             _loss_texts(o.measures.card, 5)[o.measures.row].split("; ")}  # type: ignore[attr-defined]
    assert any("%" in t and "(target" in t for t in texts)  # a Percent shows as 55%
    assert any("no data (" in t for t in texts)
    assert any("not reached, overdue" in t for t in texts)
    assert any("percentile" in t and "among peers" in t for t in texts)


@pytest.mark.parametrize("seed", range(3))
def test_the_summary_coverage_counts_what_each_customer_s_details_say(seed: int) -> None:
    from sheets_health.summary import _coverage

    model, raw = random_sheet(seed)
    scores = score_customers(model, raw, TODAY)
    on_card: dict[str, set[str]] = {}
    fed: dict[str, set[str]] = {}
    for cid, score in scores.items():
        for outcome in score.outcomes:
            for m in tuple(outcome.measures):
                on_card.setdefault(m.measure, set()).add(cid)
                if m.sub_score is not None and m.weight > 0:
                    fed.setdefault(m.measure, set()).add(cid)
    rows = _coverage(scores, {}).rows
    assert [(r[0], r[2], r[3]) for r in rows] == [
        (name, len(fed.get(name, ())), len(cids)) for name, cids in on_card.items()]
    assert any(0 < r[2] < r[3] for r in rows)  # some measures feed only some customers


@pytest.mark.parametrize("seed", range(8))
def test_customers_scored_a_scorecard_at_a_time_get_what_the_per_customer_rule_gives(
        seed: int) -> None:
    """Customers with no override and past onboarding are worked out from the cards'
    arrays together; each one's score, colour, Reasons, Next step and Trend must be what
    `_customer_result` (the rule for one customer, which overrides and onboarding use)
    gives for the same outcomes."""
    import dataclasses

    from sheets_health import journey
    from sheets_health.scoring import _customer_result

    model, raw = random_sheet(seed)
    model = dataclasses.replace(model, baselines={
        c.id: float((i * 37) % 101) for i, c in enumerate(model.customers) if i % 4})
    scores = score_customers(model, raw, TODAY)
    measures = {m.name: m for m in model.measures}
    stages = model.settings.stages
    together = 0
    for c in model.customers:
        if c.inactive:
            continue
        stage = journey.stage_of(stages, c.start_date, TODAY)
        got = scores[c.id]
        expected = _customer_result(c, got.outcomes, measures, model.settings, TODAY,
                                    model.baselines.get(c.id), stage)
        if stages:
            expected = dataclasses.replace(expected,
                                           stage=journey.stage_label(stages, c.start_date, TODAY))
        assert got == expected, c.id
        together += c.override is None and got.outcomes != () and (
            stage is None or stage != stages[0])
    assert together > 250  # most customers did take the arrays' way
    colours = {s.rag for s in scores.values()}
    assert {Rag.GREEN, Rag.YELLOW, Rag.RED} <= colours or seed % 2  # every colour is compared


def test_numbers_formatted_a_column_at_a_time_read_as_format_number_writes_them() -> None:
    import random

    from sheets_health.cells import format_number
    from sheets_health.scoring import _fmt_all, format_floats

    rng = random.Random(5)
    edges = [0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 0.004, 0.005, 0.995, 0.999999999, 1 - 1e-10,
             99.95, 99.96, 100.0, 99.9999999999, 100.5, 1234.5, -1234.5, 1e-10, -1e-12,
             5e-324, 1e15 + 0.3, 1e16, 123456789.123, 3.05, 12.25, 0.125, -0.5, 7.0000000004]
    values = edges + [rng.uniform(-1, 1) * 10 ** rng.randint(-4, 9) for _ in range(5000)]
    assert format_floats(values) == [format_number(v) for v in values]
    from sheets_health.cells import Percent
    mixed = [1.5, 3, Percent(0.55), "High ", None, float("nan"), True, 1234.0, -7]
    assert _fmt_all(mixed) == ["1.5", "3", "55%", "High", "no data", "no data", "yes",
                               "1,234", "-7"]
