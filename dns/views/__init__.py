"""The DNS pages, split by resource: zones, records (the in-place editor) and extras
(forwarding, e-mail forwarding, DNSSEC, zone templates)."""

from dns.views.extras import (
    dnssec_key_delete,
    email_forward_add,
    email_forward_delete,
    template_create,
    template_delete,
    template_edit,
    template_list,
    zone_dnssec,
    zone_forwarding,
)
from dns.views.records import record_add, record_delete, record_edit, record_row
from dns.views.zones import (
    zone_create,
    zone_delete,
    zone_detail,
    zone_export,
    zone_history,
    zone_import,
    zone_list,
    zone_publish,
    zone_rollback,
    zone_status,
)

__all__ = [
    "dnssec_key_delete",
    "email_forward_add",
    "email_forward_delete",
    "record_add",
    "record_delete",
    "record_edit",
    "record_row",
    "template_create",
    "template_delete",
    "template_edit",
    "template_list",
    "zone_create",
    "zone_delete",
    "zone_detail",
    "zone_dnssec",
    "zone_export",
    "zone_forwarding",
    "zone_history",
    "zone_import",
    "zone_list",
    "zone_publish",
    "zone_rollback",
    "zone_status",
]
