import django_filters

from workers.models import Laborer, LaborerStatus
from workers.selectors import laborers_with_occupation


class LaborerFilter(django_filters.FilterSet):
    county = django_filters.CharFilter(field_name="county_id", max_length=6)
    township = django_filters.CharFilter(field_name="township_id", max_length=9)
    status = django_filters.ChoiceFilter(choices=LaborerStatus.choices)
    occupation = django_filters.CharFilter(method="filter_occupation", max_length=40)
    household = django_filters.NumberFilter(field_name="household_id")

    class Meta:
        model = Laborer
        fields = ["county", "township", "status", "occupation", "household"]

    def filter_occupation(self, queryset, name, value):  # type: ignore[no-untyped-def]
        return laborers_with_occupation(queryset, value)
