"""Domains: TLDs, registrar accounts, domains and the outbox of operations sent to registries.

Imports run one way, from the top of this list to the bottom, never back up (checked by the
``domains`` contract of ``.importlinter``; modules on one line do not import each other):

=====================================  ===========================================================
``urls``                               the app's URLs
``admin``, ``api``, ``views``,         the pages, the API, the admin site, the management
``management``, ``templatetags``       commands (``run_sandbox_rest``, ``run_sandbox_epp``)
``tasks``                              the Celery tasks: thin, over the worker side and dispatch
``services`` | ``outbox`` | ``poll``   the actions (register, renew, transfer, nameservers,
| ``availability`` |                   locks, contacts, hosts, DNSSEC, transfer answers, retry,
``admin_services`` | ``forms``         cancel...) | the worker side (claim, call the registry,
                                       record, drain, sweep) | the EPP poll queues (read, apply,
                                       log, ack after commit) | availability checks | staff's TLD
                                       and account routing | form shapes
``transfers``                          transfers in progress both ways: the registry's answers
                                       and another registrar's requests, recorded
``dispatch``                           ``operation_enqueue``: an outbox row, handed to the workers
                                       after commit (one message each, or drain tasks; ``burst``)
``lifecycle``                          the state machine (``TRANSITIONS``, ``domain_transition``
                                       with its history row), the dates, the registry's view
                                       (drift; the registry-status mapping belongs here)
``simulator`` | ``ratelimit``          the simulated registry (never a production adapter) | the
                                       registrar accounts' rate budgets
``registrars``                         the adapter protocol (``base``) and the production
                                       adapters (``reseller_rest``, ``epp``); ``adapter_for``
``names`` | ``hooks`` | ``policies``   name rules | what domains makes happen in the apps above
| ``selectors`` | ``filtersets``       it | who may do what | scoped reads | list filters
``models``                             the tables
=====================================  ===========================================================

Above domains sit dns, support and billing; domains never imports them. Where it must cause
something there (a ticket when an operation stops, a zone when a domain is activated) or needs
what they know (prices), it calls a hook of ``domains.hooks`` that they fill in in their
``AppConfig.ready()``.
"""
