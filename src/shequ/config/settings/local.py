"""Development and the embedded demo: SQLite in WAL mode, debug on, console e-mail."""

from .base import *  # noqa: F403
from .base import SECRET_KEY, VAR_DIR, env_bool

DEBUG = env_bool("SHEQU_DEBUG", default=True)
SECRET_KEY = SECRET_KEY or "insecure-local-development-key-do-not-use-in-production"
VAR_DIR.mkdir(parents=True, exist_ok=True)
