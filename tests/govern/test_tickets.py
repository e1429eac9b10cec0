"""Public ticket numbers: unguessable, typable, and refused when mistyped or forged."""

from __future__ import annotations

import random
import re
import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qinglang.govern import tickets
from qinglang.govern.tickets import (
    ALPHABET,
    BITS,
    LENGTH,
    PREFIX,
    TicketError,
    check_character,
    format_ticket,
    is_canonical,
    new_ticket,
    parse_ticket,
)

CANONICAL = re.compile(r"QL(-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}){6}")
bodies = st.text(alphabet=ALPHABET, min_size=LENGTH - 1, max_size=LENGTH - 1)


def ticket_of(body: str) -> str:
    return format_ticket(body + check_character(body))


def chars(ticket: str) -> str:
    return ticket[len(PREFIX) :].replace("-", "")


def test_alphabet_has_no_ambiguous_characters_and_a_prime_size() -> None:
    assert not set("01ILO") & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET) == 31
    assert all(31 % d for d in range(2, 31))


def test_tickets_carry_at_least_100_random_bits() -> None:
    assert BITS >= 100
    assert tickets.RANDOM_CHARS * 4.95 > 100


def test_new_tickets_are_canonical_and_distinct() -> None:
    made = {new_ticket() for _ in range(5000)}
    assert len(made) == 5000
    for t in list(made)[:200]:
        assert CANONICAL.fullmatch(t), t
        assert is_canonical(t)
        assert parse_ticket(t) == t


def test_new_ticket_uses_its_randomness_source() -> None:
    rng = random.Random(7)
    a = new_ticket(rng.choice)
    rng = random.Random(7)
    assert new_ticket(rng.choice) == a
    assert new_ticket(secrets.choice) != a


def test_every_character_is_used() -> None:
    seen = set("".join(chars(new_ticket()) for _ in range(300)))
    assert seen == set(ALPHABET)


@given(bodies)
def test_forgiving_spellings_parse_to_the_same_ticket(body: str) -> None:
    t = ticket_of(body)
    c = chars(t)
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in t)
    for spelling in (
        t.lower(),
        c,
        c.lower(),
        " ".join(c[i : i + 4] for i in range(0, LENGTH, 4)),
        f"  {t}\n",
        t.replace("-", "—"),
        full_width,
        "ql " + c,
    ):
        assert parse_ticket(spelling) == t


@settings(max_examples=25)
@given(bodies)
def test_every_single_substitution_is_refused(body: str) -> None:
    c = chars(ticket_of(body))
    for i in range(LENGTH):
        for ch in ALPHABET:
            if ch != c[i]:
                typo = c[:i] + ch + c[i + 1 :]
                with pytest.raises(TicketError) as err:
                    parse_ticket(typo)
                assert err.value.reason == "check"


@settings(max_examples=25)
@given(bodies)
def test_every_swap_of_two_different_characters_is_refused(body: str) -> None:
    c = chars(ticket_of(body))
    for i in range(LENGTH):
        for j in range(i + 1, LENGTH):
            if c[i] != c[j]:
                swapped = list(c)
                swapped[i], swapped[j] = swapped[j], swapped[i]
                with pytest.raises(TicketError):
                    parse_ticket("".join(swapped))


@given(st.text(max_size=60))
def test_arbitrary_text_parses_only_to_a_consistent_ticket(text: str) -> None:
    try:
        t = parse_ticket(text)
    except TicketError as exc:
        assert exc.message_zh
        return
    assert is_canonical(t)


def test_random_forgeries_mostly_fail_the_check() -> None:
    rng = random.Random(1)
    passed = sum(
        tickets.is_consistent("".join(rng.choice(ALPHABET) for _ in range(LENGTH)))
        for _ in range(31_000)
    )
    assert 700 < passed < 1300  # about 1 in 31


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("  -- ", "empty"),
        ("QL-AAAA", "length"),
        ("x" * 500, "length"),
        ("QL-0000-1111-IIII-LLLL-OOOO-2222", "charset"),
        ("QL-ÄAAA-AAAA-AAAA-AAAA-AAAA-AAAA", "charset"),
    ],
)
def test_malformed_tickets_name_the_problem(text: str, reason: str) -> None:
    with pytest.raises(TicketError) as err:
        parse_ticket(text)
    assert err.value.reason == reason
    assert "受理编号" in err.value.message_zh or "请填写" in err.value.message_zh


def test_non_strings_are_refused() -> None:
    with pytest.raises(TicketError):
        parse_ticket(123)  # type: ignore[arg-type]


def test_check_character_rejects_bad_bodies() -> None:
    with pytest.raises(ValueError):
        check_character("A" * 5)
    with pytest.raises(ValueError):
        check_character("0" * (LENGTH - 1))


def test_the_documented_example_is_a_valid_ticket() -> None:
    example = re.search(r"QL(-\w{4}){6}", tickets.__doc__ or "").group(0)
    assert is_canonical(example), example
