"""The registry API under /api/v1/registry/: one router per area."""

from ninja import Router

from .backflow import router as backflow_router
from .imports import router as imports_router
from .people import router as people_router
from .resident import router as resident_router
from .tags import router as tags_router

router = Router(tags=["registry"])
# Imports first: its fixed paths (/persons/export) must win over the people router's /persons/{id}.
router.add_router("", imports_router)
router.add_router("", people_router)
router.add_router("", tags_router)
router.add_router("", resident_router)
router.add_router("", backflow_router)
