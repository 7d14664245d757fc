import django_filters

from employers.models import Vacancy, VacancyStatus


class VacancyFilter(django_filters.FilterSet):
    employer = django_filters.NumberFilter(field_name="employer_id")
    occupation = django_filters.CharFilter(field_name="occupation_id", max_length=40)
    destination = django_filters.CharFilter(field_name="destination_id", max_length=9)
    status = django_filters.ChoiceFilter(choices=VacancyStatus.choices)
    start_from = django_filters.DateFilter(field_name="start_date", lookup_expr="gte")
    start_to = django_filters.DateFilter(field_name="start_date", lookup_expr="lte")

    class Meta:
        model = Vacancy
        fields = ["employer", "occupation", "destination", "status", "start_from", "start_to"]
