def test_world_builds(world):
    assert world.a.domain.organisation == world.a.organisation
    assert world.b.customer.organisation == world.b.organisation


def test_import_dns_is_our_app():
    """dnspython also installs a package called ``dns``; it must never shadow our app."""
    import dns

    assert dns.__file__.endswith("dns/__init__.py")
    from dns.apps import DnsConfig

    assert DnsConfig.name == "dns"
