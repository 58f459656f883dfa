"""The instruments score as published: every minimum and maximum, each band
boundary, answers outside the published values refused, and an unanswered
item making the score "incomplete" (never a partial total). Mary's figures
in EXAMPLE.md come out as written there."""

from decimal import Decimal

import pytest

from careplans import instruments
from careplans.scoring import assessment_scores

# --- building answers --------------------------------------------------------------------


def barthel_answers(total: int) -> dict:
    """Barthel answers adding up to ``total``: items filled from the first,
    each to its highest value, until the total is reached."""
    answers, left = {}, total
    for item in instruments.BARTHEL.items:
        value = min(left, max(option.value for option in item.options))
        answers[item.key] = value
        left -= value
    assert left == 0
    return answers


def frequency_answers(instrument: instruments.Instrument, total: int) -> dict:
    """Items (0 to 3 each) adding up to ``total``, filled from the first."""
    answers, left = {}, total
    for item in instrument.items:
        answers[item.key] = min(left, 3)
        left -= answers[item.key]
    assert left == 0
    return answers


# Mary Okafor (EXAMPLE.md): needs help with bathing, stairs and dressing; walks
# with one person's help, minor help to transfer, the occasional accident.
MARY_FUNCTION = {
    "bowels": 2,
    "bladder": 1,
    "grooming": 1,
    "toilet": 2,
    "feeding": 2,
    "transfer": 2,
    "mobility": 2,
    "dressing": 1,
    "stairs": 1,
    "bathing": 0,
}
MARY_MOOD = {
    **{f"phq9_{n}": v for n, v in enumerate([1, 1, 1, 2, 1, 1, 1, 0, 0], start=1)},
    **{f"gad7_{n}": v for n, v in enumerate([1, 1, 1, 1, 1, 1, 0], start=1)},
}
MARY_ANSWERS = {
    "frailty": {"cfs": 6},
    "function": MARY_FUNCTION,
    "mood": MARY_MOOD,
    "falls": {"fell_last_12_months": "yes", "falls_count": 2, "tug_seconds": "19"},
}


# --- Clinical Frailty Scale ----------------------------------------------------------------


@pytest.mark.parametrize("level", range(1, 10))
def test_every_frailty_level_scores_itself_out_of_9_with_its_label(level):
    score = instruments.cfs_score(level)

    assert (score.total, score.maximum) == (level, 9)
    assert score.band == instruments.CFS_LEVELS[level - 1].label.split(":")[0]


def test_frailty_levels_are_banded_by_their_published_names():
    assert instruments.cfs_score(1).band == "Very fit"
    assert instruments.cfs_score(6).band == "Living with moderate frailty"
    assert instruments.cfs_score(9).band == "Terminally ill"


@pytest.mark.parametrize("level", [0, 10, -1])
def test_a_frailty_level_outside_1_to_9_is_refused(level):
    with pytest.raises(ValueError, match="not a level from 1 to 9"):
        instruments.cfs_score(level)


@pytest.mark.parametrize("blank", [None, ""])
def test_an_unanswered_frailty_scale_is_incomplete(blank):
    score = instruments.cfs_score(blank)

    assert score.total is None
    assert not score.complete
    assert str(score) == "incomplete"


# --- Barthel index -------------------------------------------------------------------------


def test_barthel_maximum_is_20():
    assert instruments.BARTHEL.maximum == 20


def test_barthel_all_zero_is_very_severe_dependency():
    score = instruments.BARTHEL.score({item.key: 0 for item in instruments.BARTHEL.items})

    assert (score.total, score.band) == (0, "very severe dependency")
    assert str(score) == "0/20 (very severe dependency)"


def test_barthel_all_highest_is_independent():
    score = instruments.BARTHEL.score(barthel_answers(20))

    assert (score.total, score.band) == (20, "independent")


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (4, "very severe dependency"),
        (5, "severe dependency"),
        (9, "severe dependency"),
        (10, "moderate dependency"),
        (14, "moderate dependency"),
        (15, "mild dependency"),
        (19, "mild dependency"),
        (20, "independent"),
    ],
)
def test_barthel_band_boundaries(total, band):
    score = instruments.BARTHEL.score(barthel_answers(total))

    assert (score.total, score.band) == (total, band)


def test_barthel_refuses_a_value_an_item_does_not_have():
    answers = barthel_answers(19)
    answers["bathing"] = 2  # bathing is 0 or 1

    with pytest.raises(ValueError, match="Barthel index: 2 is not an answer to “Bathing”"):
        instruments.BARTHEL.score(answers)


def test_barthel_with_one_item_unanswered_is_incomplete_not_a_partial_total():
    answers = barthel_answers(20)
    del answers["stairs"]

    score = instruments.BARTHEL.score(answers)

    assert score.total is None
    assert score.band == ""
    assert str(score) == "incomplete"


def test_barthel_item_answered_with_an_empty_string_is_unanswered():
    answers = {**barthel_answers(20), "feeding": ""}

    assert instruments.BARTHEL.score(answers).total is None


def test_barthel_reads_answers_stored_as_text():
    answers = {key: str(value) for key, value in barthel_answers(14).items()}

    assert instruments.BARTHEL.score(answers).total == 14


# --- PHQ-9 and PHQ-2 -----------------------------------------------------------------------


def test_phq9_minimum_and_maximum():
    lowest = instruments.PHQ9.score(frequency_answers(instruments.PHQ9, 0))
    highest = instruments.PHQ9.score(frequency_answers(instruments.PHQ9, 27))

    assert (lowest.total, lowest.band) == (0, "minimal")
    assert (highest.total, highest.maximum, highest.band) == (27, 27, "severe")


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
    ],
)
def test_phq9_band_boundaries(total, band):
    score = instruments.PHQ9.score(frequency_answers(instruments.PHQ9, total))

    assert (score.total, score.band) == (total, band)


def test_phq9_refuses_an_item_value_of_4():
    answers = {**frequency_answers(instruments.PHQ9, 0), "phq9_3": 4}

    with pytest.raises(ValueError, match="PHQ-9: 4 is not an answer"):
        instruments.PHQ9.score(answers)


def test_phq9_with_item_9_unanswered_is_incomplete():
    answers = frequency_answers(instruments.PHQ9, 10)
    del answers["phq9_9"]

    assert str(instruments.PHQ9.score(answers)) == "incomplete"


@pytest.mark.parametrize(
    ("first", "second", "band"),
    [
        (0, 0, "negative screen"),
        (1, 1, "negative screen"),
        (2, 0, "negative screen"),
        (2, 1, "positive screen"),
        (0, 3, "positive screen"),
        (3, 3, "positive screen"),
    ],
)
def test_phq2_is_positive_from_3(first, second, band):
    score = instruments.two_item_screen(
        instruments.PHQ9, {"phq9_1": first, "phq9_2": second}, "phq2"
    )

    assert (score.total, score.maximum, score.band) == (first + second, 6, band)


def test_phq2_needs_only_the_first_two_items_and_is_incomplete_without_them():
    only_first = instruments.two_item_screen(instruments.PHQ9, {"phq9_1": 3}, "phq2")
    later_items = instruments.two_item_screen(
        instruments.PHQ9, {"phq9_1": 0, "phq9_2": 0, "phq9_9": 3}, "phq2"
    )

    assert only_first.total is None
    assert later_items.total == 0


def test_phq2_refuses_a_value_outside_0_to_3():
    with pytest.raises(ValueError, match="PHQ-2"):
        instruments.two_item_screen(instruments.PHQ9, {"phq9_1": 4, "phq9_2": 0}, "phq2")


@pytest.mark.parametrize(
    ("value", "flagged"),
    [(None, False), ("", False), (0, False), ("0", False), (1, True), ("2", True), (3, True)],
)
def test_the_self_harm_flag_is_item_9_above_zero(value, flagged):
    answers = {} if value is None else {"phq9_9": value}

    assert instruments.phq9_self_harm_flag(answers) is flagged


def test_the_self_harm_flag_does_not_depend_on_the_total():
    answers = {**frequency_answers(instruments.PHQ9, 0), "phq9_9": 1}

    assert instruments.PHQ9.score(answers).band == "minimal"
    assert instruments.phq9_self_harm_flag(answers)


# --- GAD-7 and GAD-2 -----------------------------------------------------------------------


def test_gad7_minimum_and_maximum():
    lowest = instruments.GAD7.score(frequency_answers(instruments.GAD7, 0))
    highest = instruments.GAD7.score(frequency_answers(instruments.GAD7, 21))

    assert (lowest.total, lowest.band) == (0, "minimal")
    assert (highest.total, highest.maximum, highest.band) == (21, 21, "severe")


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
    ],
)
def test_gad7_band_boundaries(total, band):
    score = instruments.GAD7.score(frequency_answers(instruments.GAD7, total))

    assert (score.total, score.band) == (total, band)


def test_gad7_refuses_a_negative_item_and_is_incomplete_with_one_missing():
    answers = frequency_answers(instruments.GAD7, 7)

    with pytest.raises(ValueError, match="GAD-7"):
        instruments.GAD7.score({**answers, "gad7_7": -1})
    del answers["gad7_7"]
    assert instruments.GAD7.score(answers).total is None


@pytest.mark.parametrize(
    ("first", "second", "band"),
    [(1, 1, "negative screen"), (2, 1, "positive screen"), (0, 0, "negative screen")],
)
def test_gad2_is_positive_from_3(first, second, band):
    score = instruments.two_item_screen(
        instruments.GAD7, {"gad7_1": first, "gad7_2": second}, "gad2"
    )

    assert (score.instrument, score.total, score.band) == ("gad2", first + second, band)


# --- falls and Timed Up and Go -------------------------------------------------------------


def test_falls_unanswered_is_incomplete():
    assert instruments.falls_score({}).total is None
    assert instruments.falls_score({"fell_last_12_months": ""}).total is None


def test_no_falls_scores_zero_with_no_flags():
    score = instruments.falls_score({"fell_last_12_months": "no"})

    assert (score.total, score.band, score.flags) == (0, "no falls", ())


def test_one_fall_is_not_flagged_two_are():
    one = instruments.falls_score({"fell_last_12_months": "yes", "falls_count": 1})
    two = instruments.falls_score({"fell_last_12_months": "yes", "falls_count": 2})

    assert (one.total, one.band, one.flags) == (1, "fallen", ())
    assert two.flags == ("2 falls in 12 months",)


@pytest.mark.parametrize(
    ("seconds", "flagged"),
    [("12.0", False), (12, False), ("11.9", False), ("12.1", True), (Decimal("19"), True)],
)
def test_timed_up_and_go_over_12_seconds_is_flagged(seconds, flagged):
    score = instruments.falls_score({"fell_last_12_months": "no", "tug_seconds": seconds})

    assert bool(score.flags) is flagged
    if flagged:
        assert score.flags[0] == f"Timed Up and Go {seconds} s (over 12 s)"


def test_timed_up_and_go_that_is_not_a_number_is_refused():
    with pytest.raises(ValueError, match="Timed Up and Go must be a number"):
        instruments.falls_score({"fell_last_12_months": "no", "tug_seconds": "quick"})


def test_a_falls_count_left_from_an_earlier_answer_does_not_count_when_the_answer_is_no():
    score = instruments.falls_score({"fell_last_12_months": "no", "falls_count": 3})

    assert (score.total, score.band) == (0, "no falls")


# --- all the instruments together: Mary's assessment ---------------------------------------


def test_marys_figures_in_the_worked_example_come_out_as_written():
    scores = assessment_scores(MARY_ANSWERS)

    assert str(scores["cfs"]) == "6/9 (Living with moderate frailty)"
    assert str(scores["barthel"]) == "14/20 (moderate dependency)"
    assert str(scores["phq9"]) == "8/27 (mild)"
    assert str(scores["gad7"]) == "6/21 (mild)"
    assert (scores["phq2"].total, scores["phq2"].band) == (2, "negative screen")
    assert (scores["gad2"].total, scores["gad2"].band) == (2, "negative screen")
    assert scores["falls"].total == 2
    assert scores["falls"].flags == (
        "Timed Up and Go 19 s (over 12 s)",
        "2 falls in 12 months",
    )
    assert not instruments.phq9_self_harm_flag(MARY_ANSWERS["mood"])


def test_an_empty_assessment_scores_every_instrument_as_incomplete():
    scores = assessment_scores({})

    assert set(scores) == {"cfs", "barthel", "phq9", "phq2", "gad7", "gad2", "falls"}
    assert all(not score.complete for score in scores.values())
