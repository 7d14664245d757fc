from django.contrib import admin

from matching.models import (
    Candidate,
    CoachType,
    CountyReport,
    Match,
    MatchEvent,
    MatchingPolicy,
    MatchingRun,
    Notification,
    ProgressTarget,
    Seat,
    Suggestion,
    TransferPlan,
    Trip,
    TripEvent,
    TripStop,
)


@admin.register(MatchingPolicy)
class MatchingPolicyAdmin(admin.ModelAdmin):
    list_display = ["version", "note", "created_by", "created_at"]
    readonly_fields = ["version", "weights", "note", "created_by", "created_at"]


@admin.register(MatchingRun)
class MatchingRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "status",
        "progress",
        "laborers",
        "openings",
        "assigned",
        "gap",
        "seconds",
        "created_at",
    ]
    list_filter = ["status"]
    readonly_fields = [f.name for f in MatchingRun._meta.fields]


class MatchEventInline(admin.TabularInline):
    model = MatchEvent
    extra = 0
    readonly_fields = ["from_status", "to_status", "actor", "note", "at"]


@admin.register(Match)
class MatchAdmin(admin.ModelAdmin):
    list_display = ["id", "laborer", "vacancy", "score", "status", "run", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["laborer", "vacancy", "run"]
    inlines = [MatchEventInline]


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    list_display = ["laborer", "rank", "vacancy", "score", "computed_at"]
    raw_id_fields = ["laborer", "vacancy"]


@admin.register(Candidate)
class CandidateAdmin(admin.ModelAdmin):
    list_display = ["vacancy", "rank", "laborer", "score", "computed_at"]
    raw_id_fields = ["laborer", "vacancy"]


@admin.register(CoachType)
class CoachTypeAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "seats", "cost", "active"]


@admin.register(TransferPlan)
class TransferPlanAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "status",
        "from_date",
        "to_date",
        "riders",
        "seated",
        "trips",
        "lower_bound_trips",
    ]
    list_filter = ["status"]
    readonly_fields = [f.name for f in TransferPlan._meta.fields]


class TripStopInline(admin.TabularInline):
    model = TripStop
    extra = 0


class TripEventInline(admin.TabularInline):
    model = TripEvent
    extra = 0
    readonly_fields = ["from_state", "to_state", "actor", "note", "at"]


@admin.register(Trip)
class TripAdmin(admin.ModelAdmin):
    list_display = ["id", "state", "departure", "county", "city", "coach_type", "seats"]
    list_filter = ["state", "county", "city"]
    inlines = [TripStopInline, TripEventInline]


@admin.register(Seat)
class SeatAdmin(admin.ModelAdmin):
    list_display = ["trip", "number", "laborer", "match", "boarded_at"]
    raw_id_fields = ["trip", "laborer", "match", "pickup", "dropoff"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "laborer", "trip", "sent", "backend"]
    list_filter = ["sent"]
    raw_id_fields = ["laborer", "trip"]


@admin.register(ProgressTarget)
class ProgressTargetAdmin(admin.ModelAdmin):
    list_display = ["year", "indicator", "county", "target", "note", "updated_by", "updated_at"]
    list_filter = ["year", "indicator"]
    readonly_fields = ["updated_by", "updated_at"]


@admin.register(CountyReport)
class CountyReportAdmin(admin.ModelAdmin):
    list_display = ["date", "county", "indicator", "count", "reported_by", "updated_at"]
    list_filter = ["indicator", "county"]
    readonly_fields = ["reported_by", "updated_at"]
