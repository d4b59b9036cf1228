import logging

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def heartbeat() -> str:
    """Beat's liveness mark: proves in the worker log that the scheduler and a worker both run."""
    now = timezone.now().isoformat()
    logger.info("heartbeat %s", now)
    return now
