from django.contrib import admin

from employers.models import Employer, EmployerAccount, Vacancy


@admin.register(Employer)
class EmployerAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "uscc", "destination", "verified"]
    list_filter = ["verified", "destination"]
    search_fields = ["name", "uscc"]


@admin.register(EmployerAccount)
class EmployerAccountAdmin(admin.ModelAdmin):
    list_display = ["user", "employer"]
    raw_id_fields = ["user", "employer"]


@admin.register(Vacancy)
class VacancyAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "title",
        "employer",
        "occupation",
        "openings",
        "openings_left",
        "status",
        "start_date",
    ]
    list_filter = ["status", "occupation"]
    search_fields = ["title"]
    raw_id_fields = ["employer", "created_by"]
