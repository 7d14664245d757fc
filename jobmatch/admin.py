from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from jobmatch.models import (
    AccessLog,
    County,
    Destination,
    LegacyCountyCode,
    MinimumWage,
    Occupation,
    Township,
    User,
)


@admin.register(User)
class JobmatchUserAdmin(UserAdmin):
    list_display = ["username", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    fieldsets = (*UserAdmin.fieldsets, ("角色", {"fields": ("role", "counties")}))
    filter_horizontal = ("counties", "groups", "user_permissions")


class TownshipInline(admin.TabularInline):
    model = Township
    extra = 0


@admin.register(County)
class CountyAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "seat",
        "est_road_km_to_shenzhen",
        "est_coach_hours_to_shenzhen",
    ]
    inlines = [TownshipInline]


@admin.register(LegacyCountyCode)
class LegacyCountyCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "county", "valid_from", "valid_to"]


@admin.register(Township)
class TownshipAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "county", "coords_from_seat", "is_seat"]
    list_filter = ["county"]
    search_fields = ["code", "name"]


@admin.register(Destination)
class DestinationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent", "city"]
    list_filter = ["kind", "city"]


@admin.register(MinimumWage)
class MinimumWageAdmin(admin.ModelAdmin):
    list_display = ["city", "effective_from", "monthly", "hourly"]
    list_filter = ["city"]


@admin.register(Occupation)
class OccupationAdmin(admin.ModelAdmin):
    list_display = ["key", "name_zh", "name_en", "classification_code", "code_confidence"]
    filter_horizontal = ["related"]


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "method", "endpoint", "laborer_count"]
    list_filter = ["method"]
    readonly_fields = ["at", "user", "method", "endpoint", "laborer_ids", "laborer_count"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
