from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"

    def ready(self) -> None:
        # Imported here, not at the top of the module: support.services imports the models,
        # which Django loads only after every AppConfig is created.
        from customers import hooks as customer_hooks
        from dns import hooks as dns_hooks
        from domains import hooks as domain_hooks
        from support import services

        # A registry operation that stopped opens the staff ticket and the customer's; its
        # success after a retry closes them. dns's system tickets (failed pushes, disabled zones).
        domain_hooks.operation_stopped.register(services.ticket_open_for_operation)
        domain_hooks.operations_succeeded.register(services.ticket_close_for_operations)
        dns_hooks.system_ticket.register(services.ticket_open_system)
        # A new organisation gets its default support department.
        customer_hooks.organisation_created.register(services.department_ensure_default)
