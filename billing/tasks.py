"""The Celery tasks of billing: thin wrappers (the beat schedule's daily renewal sweep and the
e-mails a sweep queues after its commits).

Importing this module imports ``billing.renewals``, which registers its ``on_invoice_paid``
listener (the queued renewal of a paid renewal invoice) in every worker.
"""

from __future__ import annotations

from celery import shared_task

from billing import renewals


@shared_task(ignore_result=True)
def billing_renewals_sweep() -> dict:
    """Renewal invoices N days before expiry, auto-renew from credit, reminders."""
    return renewals.renewals_sweep()


@shared_task(ignore_result=True)
def billing_renewal_mails(kind: str, items: list) -> int:
    """The issued e-mails (``kind="issued"``, invoice ids) or reminders (``"reminder"``,
    ``[invoice id, days]`` pairs) of a sweep."""
    return renewals.send_renewal_mails(kind, items)
