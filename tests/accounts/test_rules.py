"""Property tests of phone validation and masking (privacy: DOMAIN.md Risk and privacy)."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from tuangou.accounts import rules

DIGITS = st.text(alphabet=string.digits, min_size=9, max_size=9)
VALID = st.builds(lambda second, rest: f"1{second}{rest}", st.sampled_from("3456789"), DIGITS)


@given(VALID)
def test_mainland_mobile_numbers_are_valid(phone: str) -> None:
    assert rules.valid_phone(phone)


@given(st.text(max_size=14))
def test_valid_phone_is_exactly_eleven_ascii_digits(phone: str) -> None:
    expected = (
        len(phone) == 11
        and all(c in string.digits for c in phone)
        and phone[0] == "1"
        and phone[1] in "3456789"
    )
    assert rules.valid_phone(phone) is expected


def test_look_alike_numbers_are_not_valid() -> None:
    assert not rules.valid_phone("12812348000")  # second digit 2
    assert not rules.valid_phone("1381234800")  # 10 digits
    assert not rules.valid_phone("138123480001")  # 12 digits
    assert not rules.valid_phone("13812348000\n")  # a trailing newline
    assert not rules.valid_phone("13８12348000")  # a full-width digit: another account
    assert not rules.valid_phone("+8613812348000")


@given(VALID)
def test_masked_phone_never_shows_the_middle_digits(phone: str) -> None:
    masked = rules.mask_phone(phone)
    assert masked == f"{phone[:3]}****{phone[-4:]}"
    assert phone[3:7] not in masked.replace("*", "") or phone[3:7] in phone[:3] + phone[-4:]
    assert masked[3:7] == "****"
    assert len(masked) == len(phone)


@given(st.text(alphabet=string.digits, max_size=20))
def test_masking_any_digit_string_hides_its_middle(phone: str) -> None:
    masked = rules.mask_phone(phone)
    if len(phone) < 7:
        assert set(masked) <= {"*"}
        assert len(masked) == len(phone)
    else:
        # Only the first three and the last four are shown.
        shown = [c for c in masked if c != "*"]
        assert shown == list(phone[:3] + phone[-4:])


def test_mask_phone_example() -> None:
    assert rules.mask_phone("13812348000") == "138****8000"


NAME = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc", "Zl", "Zp")),
    min_size=1,
    max_size=12,
)


@given(NAME)
def test_mask_name_keeps_only_the_ends(name: str) -> None:
    masked = rules.mask_name(name)
    if len(name) == 1:
        assert masked == name
    elif len(name) == 2:
        assert masked == name[0] + "*"
    else:
        assert masked[0] == name[0]
        assert masked[-1] == name[-1]
        assert masked[1:-1] == "*" * (len(name) - 2)
    assert len(masked) == len(name)


@given(NAME, st.text(alphabet=" \t\n", max_size=3), st.text(alphabet=" \t\n", max_size=3))
def test_mask_name_ignores_surrounding_blanks(name: str, before: str, after: str) -> None:
    assert rules.mask_name(before + name + after) == rules.mask_name(name)


def test_mask_name_examples() -> None:
    assert rules.mask_name("李阿姨") == "李*姨"
    assert rules.mask_name("王五") == "王*"
    assert rules.mask_name("Alice") == "A***e"
    assert rules.mask_name("") == "*"
    assert rules.mask_name("   ") == "*"


@given(st.text(max_size=200))
def test_password_shape(password: str) -> None:
    problem = rules.password_problem(password)
    assert (problem is None) is (8 <= len(password) <= 128)


def test_only_member_accounts_buy_and_lead() -> None:
    """Staff accounts (operators, suppliers' staff) buy with a member account of their own."""
    assert [role for role in rules.ROLES if rules.may_buy(role)] == ["member"]
