"""The team and its API keys in the native API: what /team/ and /team/api-keys/ do, for the
reseller's members signed in (session authentication). Which role may change what is
``customers.roles``; the services check it (``customers.team``, ``customers.services``).

An API key may list its organisation's keys of its own mode, and nothing of the team: keys do
not issue keys, revoke them or invite people (``customers.roles.API_KEY_RIGHTS``). Staff manage
teams in the admin site; here every row of another organisation is 404.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from customers import services as key_services
from customers import team
from customers.models import ApiKey, Invitation, Membership
from customers.roles import Right, require
from customers.selectors import visible_api_keys, visible_invitations, visible_memberships
from portal.api.views import ScopedReadOnlyViewSet
from portal.tenancy import ActorKind


class ApiKeySerializer(serializers.ModelSerializer):
    mode = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)
    revoked = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "mode",
            "created_by",
            "created_at",
            "last_used_at",
            "use_count",
            "revoked",
            "revoked_at",
        ]
        read_only_fields = fields

    def get_mode(self, key: ApiKey) -> str:
        return "live" if key.livemode else "sandbox"

    def get_revoked(self, key: ApiKey) -> bool:
        return key.revoked_at is not None


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(
        read_only=True, help_text="The whole key: shown in this answer only, never again"
    )

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class ApiKeyWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="What the key is for")
    mode = serializers.ChoiceField(choices=[("live", "live"), ("sandbox", "sandbox")])


class ApiKeyViewSet(ScopedReadOnlyViewSet):
    """The organisation's API keys: create (the key is in the answer once), list, revoke."""

    serializer_class = ApiKeySerializer
    ordering_fields = ("created_at", "last_used_at", "name")
    http_method_names = ["get", "post", "head", "options"]

    def scoped_queryset(self) -> QuerySet[ApiKey]:
        if self.actor.kind not in {ActorKind.RESELLER, ActorKind.API_KEY}:
            return ApiKey.objects.none()
        return visible_api_keys(self.actor).select_related("created_by").order_by("-created_at")

    @extend_schema(request=ApiKeyWriteSerializer, responses={201: ApiKeyCreatedSerializer})
    def create(self, request, *args, **kwargs):
        actor = self.actor
        if actor.kind not in {ActorKind.RESELLER, ActorKind.API_KEY}:
            raise PermissionDenied("Only the organisation's members manage its API keys.")
        incoming = ApiKeyWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        key, raw = key_services.api_key_issue(
            actor=actor,
            organisation=actor.organisation,
            livemode=incoming.validated_data["mode"] == "live",
            name=incoming.validated_data["name"].strip(),
        )
        key.key = raw
        response = Response(
            ApiKeyCreatedSerializer(key, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(request=None, responses={200: ApiKeySerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke the key: the next request with it is refused."""
        key = key_services.api_key_revoke(actor=self.actor, api_key=self.get_object())
        return Response(ApiKeySerializer(key, context=self.get_serializer_context()).data)


class TeamMemberSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    name = serializers.CharField(source="user.get_full_name", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "email", "name", "role", "created_at"]
        read_only_fields = fields


class TeamRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Membership.Role.choices)


class _TeamViewSet(ScopedReadOnlyViewSet):
    def _member(self):
        """The team is its members' business: a key is refused (403, as the roles say), and
        so is anyone outside the organisation (its rows are 404 to them in any case)."""
        actor = self.actor
        if actor.kind == ActorKind.API_KEY:
            require(actor, Right.TEAM)
        if actor.kind != ActorKind.RESELLER:
            raise PermissionDenied("Only the organisation's members manage its team.")
        return actor


class TeamMemberViewSet(_TeamViewSet):
    """The organisation's members and their roles: change a role (PATCH), remove (DELETE)."""

    serializer_class = TeamMemberSerializer
    ordering_fields = ("created_at", "role")
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def scoped_queryset(self) -> QuerySet[Membership]:
        if self.actor.kind != ActorKind.RESELLER:
            return Membership.objects.none()
        return visible_memberships(self.actor).order_by("user__email")

    @extend_schema(request=TeamRoleSerializer, responses={200: TeamMemberSerializer})
    def partial_update(self, request, *args, **kwargs):
        membership = self.get_object()  # another organisation's (or nobody's) row: 404 first
        actor = self._member()
        incoming = TeamRoleSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        membership = team.membership_set_role(
            actor=actor, membership=membership, role=incoming.validated_data["role"]
        )
        return Response(TeamMemberSerializer(membership).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, *args, **kwargs):
        membership = self.get_object()
        team.membership_remove(actor=self._member(), membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationSerializer(serializers.ModelSerializer):
    invited_by = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)
    state = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "invited_by",
            "created_at",
            "expires_at",
            "accepted_at",
            "revoked_at",
            "state",
        ]
        read_only_fields = fields

    def get_state(self, invitation: Invitation) -> str:
        if invitation.accepted_at is not None:
            return "accepted"
        if invitation.revoked_at is not None:
            return "revoked"
        if invitation.expires_at <= self.context["now"]:
            return "expired"
        return "open"


class InvitationWriteSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Membership.Role.choices)


class TeamInvitationViewSet(_TeamViewSet):
    """Invitations to join the team: create (the link is e-mailed, never answered), list,
    revoke."""

    serializer_class = InvitationSerializer
    ordering_fields = ("created_at", "expires_at")
    http_method_names = ["get", "post", "head", "options"]

    def get_serializer_context(self) -> dict:
        from django.utils import timezone

        return {**super().get_serializer_context(), "now": timezone.now()}

    def scoped_queryset(self) -> QuerySet[Invitation]:
        if self.actor.kind != ActorKind.RESELLER:
            return Invitation.objects.none()
        return visible_invitations(self.actor)

    @extend_schema(request=InvitationWriteSerializer, responses={201: InvitationSerializer})
    def create(self, request, *args, **kwargs):
        actor = self._member()
        incoming = InvitationWriteSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        invitation, _token = team.invitation_create(
            actor=actor,
            organisation=actor.organisation,
            email=incoming.validated_data["email"],
            role=incoming.validated_data["role"],
            site_url=request.build_absolute_uri("/"),
        )
        return Response(
            InvitationSerializer(invitation, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=None, responses={200: InvitationSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        invitation = self.get_object()
        invitation = team.invitation_revoke(actor=self._member(), invitation=invitation)
        return Response(
            InvitationSerializer(invitation, context=self.get_serializer_context()).data
        )
