import random

import pytest

from conformance.formats import is_credit_code, is_identity_number, make_identity_number


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002X",  # GB 11643, check character X
        "810000199001011230",  # Hong Kong residence permit: stdnum alone rejects it
        "933100198506120038",  # 2023 foreign permanent-residence number
    ],
)
def test_valid_identity_numbers(number):
    assert is_identity_number(number)


@pytest.mark.parametrize(
    "number",
    [
        "110105194912310021",  # wrong check character
        "11010519491331002X",  # month 13
        "11010519491231002",  # 17 characters
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits
        110105194912310020,  # a JSON number is never an identity number
        "810000199001011231",  # permit with a wrong check character
    ],
)
def test_invalid_identity_numbers(number):
    assert not is_identity_number(number)


def test_generated_identity_numbers_are_valid_and_vary():
    rng = random.Random(7)
    numbers = {make_identity_number(rng) for _ in range(2000)}
    assert len(numbers) > 1900
    assert all(is_identity_number(n) for n in numbers)


@pytest.mark.parametrize("code", ["91340200MA2N1B2C33", "N1340200MA2N1B2C3M"])
def test_valid_credit_codes(code):
    assert is_credit_code(code)


@pytest.mark.parametrize("code", ["91340200MA2N1B2C30", "N1340200MA2N1B2C33", "91340200MA2N1B2C3", "91340200MA2N1B2CI3"])
def test_invalid_credit_codes(code):
    assert not is_credit_code(code)
