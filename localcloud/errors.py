"""Tencent Cloud API 3.0 errors, answered inside the usual envelope with HTTP 200."""

from __future__ import annotations


class ApiError(Exception):
    """An error the API answers with: `{"Response": {"Error": {"Code", "Message"}, "RequestId"}}`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
