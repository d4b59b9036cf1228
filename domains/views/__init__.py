"""Pages of the domains app, by resource: ``lists`` (domain list, export, bulk, operations
queue), ``orders`` (search, register, transfer), ``detail`` (one domain and its actions) and
``staff`` (registrar accounts, TLD routing)."""
