from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self) -> None:
        # Imported here, not at the top of the module: billing.pricing imports the models,
        # which Django loads only after every AppConfig is created.
        from billing import ledger, orders, pricing
        from domains import hooks

        # Every price domains shows or checks (search, order summary, premium-price guard) and
        # the cost the simulated registry charges.
        hooks.price_list.register(pricing.PriceList)
        hooks.priced_tlds.register(pricing.priced_tld_names)
        hooks.registry_cost.register(pricing.platform_cost)
        # The reseller's account with the platform: operations charged at cost when a worker
        # claims them, refunded when they fail for good or are cancelled; what a customer paid
        # for them (an order item, a renewal invoice's line) goes back to its account credit.
        hooks.operation_charge.register(ledger.charge_operations)
        hooks.operation_refund.register(orders.operation_ended)
        # A customer's register and transfer pages order through the cart's path: invoiced.
        hooks.customer_order.register(orders.customer_order)
        # A retried operation takes back what its failure credited the customer.
        hooks.operation_resumed.register(orders.operation_resumed)
        # Their on_invoice_paid listeners: a paid order queues its registry operations, a paid
        # renewal invoice its renewal.
        from billing import orders, renewals  # noqa: F401
