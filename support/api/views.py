from __future__ import annotations

from django.db.models import QuerySet

from portal.api.views import ScopedReadOnlyViewSet
from support.api.serializers import TicketDetailSerializer, TicketSerializer
from support.filtersets import TicketFilterSet
from support.models import Ticket
from support.selectors import visible_tickets


class TicketViewSet(ScopedReadOnlyViewSet):
    """The caller's support tickets, looked up by their six-digit ticket number."""

    lookup_field = "ticket_number"
    filterset_class = TicketFilterSet
    ordering_fields = ("updated_at", "created_at", "last_reply_at", "priority", "status")

    def get_serializer_class(self):
        return TicketDetailSerializer if self.action == "retrieve" else TicketSerializer

    def scoped_queryset(self) -> QuerySet[Ticket]:
        return visible_tickets(self.actor)
