"""Open311 GeoReport v2 at ``/open311/v2/`` (http://wiki.open311.org/GeoReport_v2/), issue 4 item 9.

Every endpoint answers in XML or JSON by its suffix (``services.xml``, ``services.json``), errors in
the specification's format (``<errors><error><code>…``) with the HTTP status 400, 403, 404 or 405.

- ``params``: reading and checking the query and form parameters (raises ``Open311Error``).
- ``attributes``: the per-service questions (``attribute[CODE]``) of the service definitions.
- ``selectors``: the public reads (services, requests, tokens, the change feed), counted queries.
- ``formats``: the documents (dicts in the specification's element names) and the XML/JSON writers.
- ``views``: parse → selector or service → render.

Requests carry no personal data: no contact fields, and telephone or identity numbers typed into a
description are masked.
"""
