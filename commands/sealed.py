"""A hand-over file sealed for its recipient with age (https://age-encryption.org), in memory.

The plaintext is encrypted before anything is written, so it never touches disk; only the
recipient's age identity opens the file (`age -d -i key.txt file.age`).
"""

from __future__ import annotations

import pyrage


class SealError(ValueError):
    """The recipient is not an age public key."""


def seal(plaintext: str, recipient: str) -> bytes:
    try:
        public_key = pyrage.x25519.Recipient.from_str(recipient)
    except pyrage.RecipientError:
        raise SealError(f"{recipient[:70]!r} is not an age public key (age1...)") from None
    return bytes(pyrage.encrypt(plaintext.encode(), [public_key]))
