from django.apps import AppConfig


class DnsConfig(AppConfig):
    verbose_name = "DNS"
    name = "dns"
