"""Validation of identity data: resident ID numbers (GB 11643), unified social credit
codes (GB 32100), phone numbers and bank card numbers (Luhn). Pure functions, also used
by the demo seeder to generate valid numbers."""
import re

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def id_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS)) % 11]


def is_valid_resident_id(value: str) -> bool:
    value = (value or "").strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    month, day = int(value[10:12]), int(value[12:14])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return False
    return id_check_char(value[:17]) == value[17]


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS))
    return _USCC_CHARS[(31 - total % 31) % 31]


def is_valid_uscc(value: str) -> bool:
    value = (value or "").strip().upper()
    if len(value) != 18 or any(c not in _USCC_CHARS for c in value):
        return False
    return uscc_check_char(value[:17]) == value[17]


def is_valid_phone(value: str) -> bool:
    value = (value or "").strip()
    return bool(_MOBILE.match(value) or _LANDLINE.match(value))


def luhn_check_digit(partial: str) -> str:
    total = 0
    for i, c in enumerate(reversed(partial)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def is_valid_luhn(number: str) -> bool:
    number = (number or "").replace(" ", "")
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    return luhn_check_digit(number[:-1]) == number[-1]


def is_valid_card_number(number: str) -> bool:
    """UnionPay debit and credit cards (leading 62, 4, 5) follow Luhn; some older
    domestic cards do not, so those are accepted on length and digits alone."""
    number = (number or "").replace(" ", "")
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    if number[0] in "456":
        return is_valid_luhn(number)
    return True
