"""The cases API under /api/v1/cases/: one router per area, each added here by one line."""

from ninja import Router

router = Router(tags=["cases"])
