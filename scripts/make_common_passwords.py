"""Writes admin_app/data/common-passwords.txt: the 10,000 most common passwords, most common
first, taken from the ranked list the zxcvbn package ships (frequency_lists.FREQUENCY_LISTS
["passwords"], 30,000 entries from leaked-password corpora). Run again only to refresh:

    python -m pip install --target /tmp/zx zxcvbn==4.5.0
    PYTHONPATH=/tmp/zx python scripts/make_common_passwords.py
"""
import os

from zxcvbn.frequency_lists import FREQUENCY_LISTS

TARGET = os.path.join(os.path.dirname(__file__), "..", "admin_app", "data", "common-passwords.txt")

if __name__ == "__main__":
    words = FREQUENCY_LISTS["passwords"][:10_000]
    assert len(words) == len(set(words)) == 10_000
    with open(TARGET, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(words) + "\n")
    print(f"{len(words)} passwords -> {os.path.normpath(TARGET)}")
