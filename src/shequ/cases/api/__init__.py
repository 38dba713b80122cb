"""The cases API under /api/v1/cases/: one router per area, each added here by one line."""

from ninja import Router

from .cases import router as cases_router
from .catalogue import router as catalogue_router
from .metrics import router as metrics_router
from .routing import router as routing_router

router = Router(tags=["cases"])
router.add_router("", catalogue_router)
router.add_router("", metrics_router)
router.add_router("", routing_router)
router.add_router("", cases_router)
