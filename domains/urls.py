from django.urls import path

from domains.views import detail, lists, operations, orders, staff

app_name = "domains"
urlpatterns = [
    # lists
    path("", lists.domain_list, name="list"),
    path("export.csv", lists.domain_export, name="export"),
    path("bulk/", lists.domain_bulk, name="bulk"),
    # finding and ordering names
    path("search/", orders.domain_search, name="search"),
    path("search/check/", orders.domain_check, name="check"),
    path("search/suggestions/", orders.domain_suggestions, name="suggestions"),
    path("register/", orders.domain_register, name="register"),
    path("transfer/", orders.domain_transfer, name="transfer"),
    # one domain: the page, its history, one URL per action (POST only)
    path("<int:pk>/", detail.domain_detail, name="detail"),
    path("<int:pk>/operations/", detail.operation_history, name="operations"),
    path("<int:pk>/renew/", detail.renew, name="renew"),
    path("<int:pk>/autorenew/", detail.autorenew, name="autorenew"),
    path("<int:pk>/restore/", detail.restore, name="restore"),
    path("<int:pk>/nameservers/", detail.nameservers, name="nameservers"),
    path("<int:pk>/lock/", detail.lock, name="lock"),
    path("<int:pk>/privacy/", detail.privacy, name="privacy"),
    path("<int:pk>/contacts/", detail.contacts, name="contacts"),
    path("<int:pk>/hosts/", detail.host_create, name="host_create"),
    path("<int:pk>/hosts/<int:host_id>/", detail.host_edit, name="host_edit"),
    path("<int:pk>/hosts/<int:host_id>/delete/", detail.host_delete, name="host_delete"),
    path("<int:pk>/dnssec/", detail.ds_add, name="ds_add"),
    path("<int:pk>/dnssec/<int:ds_id>/delete/", detail.ds_delete, name="ds_delete"),
    path("<int:pk>/auth-code/", detail.auth_code, name="auth_code"),
    path("<int:pk>/auth-code/reveal/", detail.auth_code_reveal, name="auth_code_reveal"),
    path("<int:pk>/sync/", detail.sync, name="sync"),
    path(
        "<int:pk>/transfer-request/approve/",
        detail.transfer_request_approve,
        name="transfer_request_approve",
    ),
    path(
        "<int:pk>/transfer-request/reject/",
        detail.transfer_request_reject,
        name="transfer_request_reject",
    ),
    path("<int:pk>/transfer/cancel/", detail.transfer_cancel, name="transfer_cancel"),
    path("<int:pk>/drifts/<int:drift_id>/accept/", detail.drift_accept, name="drift_accept"),
    path("<int:pk>/drifts/<int:drift_id>/repush/", detail.drift_repush, name="drift_repush"),
    # registry operations (staff and resellers)
    path("operations/", lists.operation_list, name="operation_list"),
    path("operations/<int:pk>/", operations.operation_detail, name="operation_detail"),
    path("operations/<int:pk>/retry/", lists.operation_retry, name="operation_retry"),
    path("operations/<int:pk>/cancel/", lists.operation_cancel, name="operation_cancel"),
    # staff: registrar accounts and TLD routing
    path("registrars/", staff.account_list, name="account_list"),
    path("registrars/new/", staff.account_create, name="account_create"),
    path("registrars/<int:pk>/", staff.account_edit, name="account_edit"),
    path("registrars/<int:pk>/test/", staff.account_test, name="account_test"),
    path("tlds/", staff.tld_list, name="tld_list"),
    path("tlds/new/", staff.tld_create, name="tld_create"),
    path("tlds/<int:pk>/", staff.tld_edit, name="tld_edit"),
    path("tlds/<int:pk>/edit/", staff.tld_page, name="tld_page"),
    path("registry-messages/", staff.registry_message_list, name="registry_message_list"),
]
