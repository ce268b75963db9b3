"""Bonus distribution: exact to the fen by largest remainder, explainable line by line."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from township_personnel.domain.distribution import (
    CSV_COLUMNS,
    Distribution,
    ShareInput,
    distribute_bonus,
    render_csv,
    render_json,
)
from township_platform.errors import InvalidArgument

D = Decimal
FEN = D("0.01")

SEVEN = [
    ShareInput("p01", D("1.35"), {"attendance": D("96.5"), "cases": D("12.25"), "rating": D("-3")}),
    ShareInput("p02", D("1.2"), {"attendance": D("100"), "cases": D("7.75")}),
    ShareInput("p03", D("1.05"), {"attendance": D("88"), "cases": D("33.333")}),
    ShareInput("p04", D("0.95"), {"attendance": D("91.25")}),
    ShareInput("p05", D("1.1"), {"attendance": D("99.5"), "rating": D("-1.5")}),
    ShareInput("p06", D("0.85"), {"attendance": D("77.7"), "cases": D("4.4")}),
    ShareInput("p07", D("1.175"), {"attendance": D("93"), "cases": D("9.125")}),
]


def shares(result: Distribution) -> dict[str, Decimal]:
    return {line.person: line.share for line in result.lines}


def check_explanation(result: Distribution) -> None:
    """Every line's numbers follow from the previous ones."""
    pool = Fraction(result.pool)
    for line in result.lines:
        assert line.total_points == sum(line.points_by_rule.values(), D(0))
        assert Fraction(line.weight) == Fraction(line.coefficient) * Fraction(line.total_points)
        if line.included:
            assert line.fraction == Fraction(line.weight) / Fraction(result.total_weight)
        else:
            assert line.fraction == 0
        assert line.exact_share == pool * line.fraction
        assert Fraction(line.floor_share) + line.remainder == line.exact_share
        assert 0 <= line.remainder < Fraction(1, 100)
        assert line.fen_added in (0, 1)
        assert line.share == line.floor_share + line.fen_added * FEN
        assert line.share == line.share.quantize(FEN)


# --- the worked example ------------------------------------------------------------------


def test_one_hundred_thousand_yuan_and_one_fen_over_seven_people() -> None:
    result = distribute_bonus(D("100000.01"), SEVEN)
    assert result.total == D("100000.01")
    assert sum(line.share for line in result.lines) == D("100000.01")
    assert result.total_weight == D("783.731525")
    assert shares(result) == {
        "p01": D("18215.74"),
        "p02": D("16498.00"),
        "p03": D("16255.52"),
        "p04": D("11060.87"),
        "p05": D("13754.71"),
        "p06": D("8904.20"),
        "p07": D("15310.97"),
    }
    # Four fen were left after rounding down; the four largest remainders got one each.
    assert {line.person for line in result.lines if line.fen_added} == {"p02", "p04", "p06", "p07"}
    check_explanation(result)


def test_a_line_explains_itself() -> None:
    line = distribute_bonus(D("100000.01"), SEVEN).lines[0]
    assert line.person == "p01"
    assert line.coefficient == D("1.35")
    assert line.total_points == D("105.75")
    assert line.weight == D("142.7625")
    assert line.fraction == Fraction(5710500, 31349261)
    assert line.floor_share == D("18215.74")
    assert line.fen_added == 0
    assert line.included


# --- the rules for people without a positive weight --------------------------------------


def test_zero_and_negative_points_get_nothing_and_leave_the_denominator() -> None:
    lines = [
        ShareInput("a", D("1"), {"work": D("60")}),
        ShareInput("b", D("1"), {"work": D("40")}),
        ShareInput("c", D("1.5"), {"work": D("0")}),
        ShareInput("d", D("1.2"), {"work": D("10"), "penalty": D("-25")}),
        ShareInput("e", D("0"), {"work": D("80")}),
        ShareInput("f", D("1"), {}),
    ]
    result = distribute_bonus(D("1000.00"), lines)
    assert shares(result) == {
        "a": D("600.00"),
        "b": D("400.00"),
        "c": D("0.00"),
        "d": D("0.00"),
        "e": D("0.00"),
        "f": D("0.00"),
    }
    assert result.total_weight == D("100")
    by_person = {line.person: line for line in result.lines}
    assert by_person["d"].weight == D("-18.0")
    assert not by_person["d"].included
    check_explanation(result)


def test_nobody_with_a_positive_weight_is_refused() -> None:
    lines = [ShareInput("a", D("1"), {"work": D("0")}), ShareInput("b", D("0"), {"w": D("5")})]
    with pytest.raises(InvalidArgument) as caught:
        distribute_bonus(D("100"), lines)
    assert caught.value.field == "points"
    assert caught.value.rule == "at least one positive weight"
    with pytest.raises(InvalidArgument):
        distribute_bonus(D("100"), [])


def test_a_zero_pool_gives_everyone_zero() -> None:
    result = distribute_bonus(D("0"), SEVEN)
    assert all(line.share == D("0.00") for line in result.lines)
    assert result.total == 0


# --- ties --------------------------------------------------------------------------------


def test_equal_remainders_go_to_the_smaller_person_id_whatever_the_order() -> None:
    people = ["wang", "li", "zhang"]
    for order in (people, people[::-1], sorted(people)):
        result = distribute_bonus(
            D("0.02"), [ShareInput(p, D("1"), {"work": D("1")}) for p in order]
        )
        assert shares(result) == {"li": D("0.01"), "wang": D("0.01"), "zhang": D("0.00")}


def test_the_larger_remainder_wins_before_the_person_id() -> None:
    result = distribute_bonus(
        D("0.01"),
        [ShareInput("a", D("1"), {"w": D("1")}), ShareInput("b", D("1"), {"w": D("2")})],
    )
    assert shares(result) == {"a": D("0.00"), "b": D("0.01")}


def test_the_result_keeps_the_input_order() -> None:
    result = distribute_bonus(D("10"), list(reversed(SEVEN)))
    assert [line.person for line in result.lines] == [s.person for s in reversed(SEVEN)]


# --- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pool", "rule"),
    [
        (D("-0.01"), ">= 0"),
        (D("100.001"), "at most 2 decimals"),
        (D("NaN"), "finite decimal"),
        (D("Infinity"), "finite decimal"),
        (100, "finite decimal"),
    ],
)
def test_pool_is_a_non_negative_amount_in_fen(pool: Decimal, rule: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        distribute_bonus(pool, SEVEN)
    assert caught.value.field == "pool"
    assert caught.value.rule == rule


def test_trailing_zeros_beyond_the_fen_are_fine() -> None:
    assert distribute_bonus(D("100.000"), SEVEN).total == D("100.00")
    assert distribute_bonus(D("1E+3"), SEVEN).total == D("1000")


def test_each_person_once() -> None:
    with pytest.raises(InvalidArgument) as caught:
        distribute_bonus(D("10"), [SEVEN[0], SEVEN[0]])
    assert caught.value.field == "person"


def test_coefficients_are_not_negative() -> None:
    with pytest.raises(InvalidArgument) as caught:
        distribute_bonus(D("10"), [*SEVEN, ShareInput("x", D("-1"), {"w": D("-5")})])
    assert caught.value.field == "coefficient"


@pytest.mark.parametrize("bad", [D("NaN"), 1.5])
def test_points_are_finite_decimals(bad: Decimal) -> None:
    with pytest.raises(InvalidArgument) as caught:
        distribute_bonus(D("10"), [ShareInput("x", D("1"), {"w": bad})])
    assert caught.value.field == "points"


def test_the_result_does_not_share_the_callers_dict() -> None:
    points = {"w": D("1")}
    result = distribute_bonus(D("1"), [ShareInput("x", D("1"), points)])
    points["w"] = D("2")
    assert result.lines[0].points_by_rule == {"w": D("1")}


# --- renderers ---------------------------------------------------------------------------


def test_csv_has_one_row_per_person_and_one_column_per_rule() -> None:
    result = distribute_bonus(D("100000.01"), SEVEN)
    rows = list(csv.DictReader(io.StringIO(render_csv(result))))
    assert len(rows) == 7
    assert list(rows[0]) == [
        "person",
        "coefficient",
        "points:attendance",
        "points:cases",
        "points:rating",
        *CSV_COLUMNS[2:],
    ]
    first = rows[0]
    assert first["person"] == "p01"
    assert first["points:rating"] == "-3"
    assert first["weight"] == "142.7625"
    assert first["fraction"] == "5710500/31349261"
    assert first["exact_share"] == "18215.7422181339"
    assert first["floor_share"] == "18215.74"
    assert first["remainder"] == "0.0022181339"
    assert first["fen_added"] == "0"
    assert rows[1]["points:rating"] == ""  # p02 has no rating points
    assert sum(D(row["share"]) for row in rows) == D("100000.01")


def test_json_carries_every_step_as_text() -> None:
    result = distribute_bonus(D("100000.01"), SEVEN)
    document = json.loads(render_json(result))
    assert document["pool"] == "100000.01"
    assert document["total"] == "100000.01"
    assert document["total_weight"] == "783.731525"
    line = document["lines"][1]
    assert line == {
        "person": "p02",
        "coefficient": "1.2",
        "points_by_rule": {"attendance": "100", "cases": "7.75"},
        "total_points": "107.75",
        "weight": "129.3",
        "included": True,
        "fraction": "5172000/31349261",
        "exact_share": "16497.9982054441",
        "exact_share_fraction": str(result.lines[1].exact_share),
        "floor_share": "16497.99",
        "remainder": "0.0082054441",
        "fen_added": 1,
        "share": "16498.00",
    }


def test_renderers_never_use_scientific_notation() -> None:
    result = distribute_bonus(D("1"), [*SEVEN, ShareInput("zero", D("1"), {"w": D("0")})])
    text = render_csv(result) + render_json(result)
    assert "E-" not in text
    assert "E+" not in text


# --- properties --------------------------------------------------------------------------

amounts = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False)
coefficients = st.decimals(min_value=0, max_value=3, places=3, allow_nan=False)
points = st.decimals(min_value=-50, max_value=200, places=2, allow_nan=False)
share_lines = st.lists(
    st.tuples(coefficients, st.dictionaries(st.sampled_from("abc"), points, max_size=3)),
    min_size=1,
    max_size=12,
).map(lambda rows: [ShareInput(f"p{i:02d}", c, p) for i, (c, p) in enumerate(rows)])


def positive(lines: list[ShareInput]) -> bool:
    return any(s.coefficient * sum(s.points_by_rule.values(), D(0)) > 0 for s in lines)


@settings(max_examples=300)
@given(pool=amounts, lines=share_lines.filter(positive))
def test_properties(pool: Decimal, lines: list[ShareInput]) -> None:
    result = distribute_bonus(pool, lines)
    # The shares add up exactly to the pool.
    assert sum((line.share for line in result.lines), D(0)) == pool
    for line in result.lines:
        # Never negative, always whole fen, at most one fen away from the exact share.
        assert line.share >= 0
        assert line.share == line.share.quantize(FEN)
        assert abs(Fraction(line.share) - line.exact_share) < Fraction(1, 100)
        if not line.included:
            assert line.share == 0
    # A larger weight never gets less; equal weights differ by at most a fen.
    for x in result.lines:
        for y in result.lines:
            if x.weight > y.weight:
                assert x.share >= y.share
            if x.weight == y.weight:
                assert abs(x.share - y.share) <= FEN
    check_explanation(result)


@settings(max_examples=100)
@given(pool=amounts, lines=share_lines.filter(positive), data=st.data())
def test_the_input_order_does_not_change_anyones_share(
    pool: Decimal, lines: list[ShareInput], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(lines))
    assert shares(distribute_bonus(pool, lines)) == shares(distribute_bonus(pool, shuffled))


@settings(max_examples=100)
@given(pool=amounts, lines=share_lines.filter(positive))
def test_renderers_agree_with_the_result(pool: Decimal, lines: list[ShareInput]) -> None:
    result = distribute_bonus(pool, lines)
    rows = list(csv.DictReader(io.StringIO(render_csv(result))))
    assert {row["person"]: D(row["share"]) for row in rows} == shares(result)
    document = json.loads(render_json(result))
    assert D(document["total"]) == pool
