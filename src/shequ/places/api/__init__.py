"""The places API: locate (geography) and the scoped jurisdiction tree."""

from ninja import Router

from .browse import router as browse_router
from .locate import router as locate_router

router = Router(tags=["places"])
router.add_router("", locate_router)
router.add_router("", browse_router)
