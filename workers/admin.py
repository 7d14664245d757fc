from django.contrib import admin

from workers.models import Household, Laborer, LaborerSkill, StatusEvent


class LaborerSkillInline(admin.TabularInline):
    model = LaborerSkill
    extra = 0


@admin.register(Laborer)
class LaborerAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "county", "township", "status", "created_at"]
    list_filter = ["status", "county"]
    search_fields = ["name", "=id_number", "=phone"]
    raw_id_fields = ["household", "created_by"]
    autocomplete_fields: list[str] = []
    inlines = [LaborerSkillInline]
    readonly_fields = ["gender", "birth_date", "from_outside_baise", "created_at", "updated_at"]


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ["id", "keep_together", "created_at"]


@admin.register(StatusEvent)
class StatusEventAdmin(admin.ModelAdmin):
    list_display = ["at", "laborer", "from_status", "to_status", "actor"]
    raw_id_fields = ["laborer", "actor"]
