"""The seed-document APIs, served as their documents describe them (see ../shared/seeds/):

* ``leanstack/``: the Leanstack enterprise API (seeds 000 and 001) for reseller software, at
  ``/v1/enterprise/...`` and ``/v1/rest/domain_suggestion``, authenticated by API keys;
* ``registrant/``: the registrant API (seed 004) at ``/api/v1/registrant/...``, Bearer tokens;
* ``rdap/``: RDAP (RFC 9082/9083) for the names Nameport sponsors, at ``/rdap/...``, public.

Each view is thin: it reads the document's request shape, calls the apps' services and
selectors (the same ones the UI and the native API call) and writes the document's response
shape. Each API has its own error body (``base.CompatAPIView.error_response``) and its own
OpenAPI document, served at ``/api/compat/<name>/schema/`` with docs at
``/api/compat/<name>/docs/`` (``docs_urlpatterns`` of each package's ``urls.py``).
"""
