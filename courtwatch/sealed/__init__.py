"""Sealed details of reports: where the sealed parts and the audit of their reads are kept.

The cryptography is in ``courtwatch.sealing`` (pure); this package owns the
tables (``store``) and the operations the web and the CLI use (``service``).
"""

from courtwatch.sealed.service import (
    NoSealingKey,
    SealedDataErased,
    SealedDetails,
    UnsealingKeyAbsent,
)

__all__ = ["NoSealingKey", "SealedDataErased", "SealedDetails", "UnsealingKeyAbsent"]
