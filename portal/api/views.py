"""The base of every native API viewset: the actor, scoped querysets, one filter set per model.

``self.actor`` is the caller as the tenancy layer knows it: the API key's organisation and mode
when the request carries a key, the session user's actor otherwise. Each viewset's
``get_queryset()`` starts from its app's selector with that actor, so an object of another tenant
(or of the other mode) does not exist for the caller and answers 404.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.functional import SimpleLazyObject, empty
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, routers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from customers.models import ApiKey
from portal.tenancy import ANONYMOUS, Actor, actor_for_api_key, actor_for_user


def actor_for_request(request: Request) -> Actor:
    """The actor of a DRF request, after DRF has authenticated it. A session user's is the one
    ``portal.middleware.ActorMiddleware`` already gave the Django request (worked out once per
    request, whichever of the middlewares and the view asks first)."""
    if isinstance(request.auth, ApiKey):
        return actor_for_api_key(request.auth)
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    django_request = getattr(request, "_request", None)
    lazy = getattr(django_request, "actor", None)
    if isinstance(lazy, SimpleLazyObject) and getattr(django_request, "user", None) is user:
        if lazy._wrapped is empty:
            lazy._setup()
        return lazy._wrapped
    return actor_for_user(user, session=getattr(request, "session", None))


class ActorMixin:
    """Gives an API view ``self.actor`` (computed once per request)."""

    request: Request

    @property
    def actor(self) -> Actor:
        request = self.request
        actor = getattr(request, "_nameport_actor", None)
        if actor is None:
            actor = actor_for_request(request)
            request._nameport_actor = actor
        return actor

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()  # type: ignore[misc]
        context["actor"] = self.actor
        return context


class ScopedReadOnlyViewSet(ActorMixin, viewsets.ReadOnlyModelViewSet):
    """List + retrieve over ``scoped_queryset()``, the app's selector for ``self.actor``.

    Subclasses set ``serializer_class``, ``filterset_class`` (the app's FilterSet, shared with the
    UI list page) and ``ordering_fields``; they implement ``scoped_queryset()``.
    """

    ordering_fields: tuple[str, ...] = ()

    def scoped_queryset(self) -> QuerySet:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        return self.scoped_queryset()


class ApiRootView(routers.APIRootView):
    """The endpoints of the native API, plus its OpenAPI schema and documentation."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        namespace = request.resolver_match.namespace
        prefix = f"{namespace}:" if namespace else ""
        data = dict(response.data)
        for key, name in (("schema", "schema"), ("docs", "docs")):
            data[key] = reverse(f"{prefix}{name}", request=request)
        return Response(data)


class ApiRouter(routers.DefaultRouter):
    """The native API's router: no ``.json`` format suffixes (use ``?format=json``)."""

    include_format_suffixes = False
    APIRootView = ApiRootView
