"""The Celery application. Settings come from Django's settings under the CELERY_ namespace."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("nameport")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
