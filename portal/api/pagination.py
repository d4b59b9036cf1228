from functools import partial

from rest_framework import pagination
from rest_framework.response import Response

from portal.pagination import COUNT_CAP, SEARCH_COUNT_CAP, CappedPaginator, cap_for


class PageNumberPagination(pagination.PageNumberPagination):
    """Page numbers; ``count`` stops at 10,000, or 1,000 for a ``q`` search (then ``count_exact``
    is false): an exact count over a million rows would cost more than the page."""

    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = CappedPaginator

    def paginate_queryset(self, queryset, request, view=None):
        self.django_paginator_class = partial(CappedPaginator, cap=cap_for(request))
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "count_exact": self.page.paginator.count_is_exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count_exact"] = {
            "type": "boolean",
            "description": f"false when there are more than {COUNT_CAP} results "
            f"({SEARCH_COUNT_CAP} for a q search)",
        }
        response["required"] = ["count", "count_exact", "results"]
        return response
