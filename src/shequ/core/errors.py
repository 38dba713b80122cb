"""Domain errors that the web and API layers turn into clear 4xx answers."""

from __future__ import annotations


class ApiError(Exception):
    """An error with a stable machine code, a human message and, where it applies, the field."""

    http_status = 400

    def __init__(
        self, message: str, *, code: str = "bad_request", field: str = "", status: int | None = None
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        if status is not None:
            self.http_status = status
