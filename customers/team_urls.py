"""The organisation's team and API keys, mounted at /team/."""

from django.urls import path

from customers import team_views

app_name = "team"
urlpatterns = [
    path("", team_views.team_page, name="page"),
    path("invite/", team_views.invite, name="invite"),
    path("invitations/<int:pk>/revoke/", team_views.invitation_revoke, name="invitation_revoke"),
    path("members/<int:pk>/role/", team_views.member_role, name="member_role"),
    path("members/<int:pk>/remove/", team_views.member_remove, name="member_remove"),
    path("security/", team_views.two_factor_policy, name="two_factor_policy"),
    path("join/<str:token>/", team_views.join, name="join"),
    path("api-keys/", team_views.api_key_list, name="api_keys"),
    path("api-keys/new/", team_views.api_key_create, name="api_key_create"),
    path("api-keys/<int:pk>/revoke/", team_views.api_key_revoke, name="api_key_revoke"),
]
