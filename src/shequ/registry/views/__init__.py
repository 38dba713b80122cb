"""HTML/htmx views of the registry, one module per area; each module exports ``urlpatterns``."""
