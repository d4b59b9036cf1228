from django.apps import AppConfig


class DomainsConfig(AppConfig):
    name = "domains"

    def ready(self) -> None:
        # Imported here, once the models are loaded (a module-level import would run before
        # they are): domains.dispatch sends these Celery tasks by name, so every process (the
        # web too, not only workers that autodiscover them) must have them registered.
        from domains import tasks  # noqa: F401
