from django.apps import AppConfig


class DnsConfig(AppConfig):
    verbose_name = "DNS"
    name = "dns"

    def ready(self) -> None:
        # Imported here, not at the top of the module: dns.services imports the models, which
        # Django loads only after every AppConfig is created.
        from dns import services
        from domains import hooks

        # A registration or incoming transfer that succeeded gets its zone from the template.
        hooks.domain_activated.register(services.zone_create_after_registration)
