"""Point-to-point coaches: plans, trips, stops, seats, their events and notifications."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jobmatch.models import County, Destination, Township
from workers.models import Laborer


class CoachType(models.Model):
    key = models.CharField(_("键"), max_length=20, primary_key=True)
    name = models.CharField(_("名称"), max_length=40)
    # Passenger seats, drivers excluded (each coach carries two drivers over 400 km).
    seats = models.PositiveSmallIntegerField(_("乘客座位"))
    cost = models.PositiveIntegerField(_("单趟费用(元)"))
    active = models.BooleanField(_("可用"), default=True)

    class Meta:
        ordering = ["-seats"]
        constraints = [
            models.CheckConstraint(condition=models.Q(seats__gte=1), name="coach_seats_min")
        ]
        verbose_name = _("车型")
        verbose_name_plural = _("车型")

    def __str__(self) -> str:
        return f"{self.name} ({self.seats})"


class PlanStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("运行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class TransferPlan(models.Model):
    status = models.CharField(
        _("状态"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.QUEUED
    )
    active = models.BooleanField(default=True, editable=False)
    from_date = models.DateField(_("起始日期"))
    to_date = models.DateField(_("截止日期"))
    parameters = models.JSONField(_("参数"), default=dict)
    riders = models.PositiveIntegerField(_("乘客"), default=0)
    seated = models.PositiveIntegerField(_("已排座"), default=0)
    unseated = models.JSONField(_("未排座"), default=list, blank=True)
    trips = models.PositiveIntegerField(_("车次"), default=0)
    lower_bound_trips = models.PositiveIntegerField(_("车次下界"), default=0)
    seat_utilization = models.FloatField(_("座位利用率"), null=True, blank=True)
    seconds = models.FloatField(_("耗时(秒)"), null=True, blank=True)
    stats = models.JSONField(_("统计"), default=dict, blank=True)
    error = models.TextField(_("错误"), blank=True)
    deliveries = models.PositiveSmallIntegerField(default=0, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=models.Q(active=True), name="one_active_transfer_plan"
            ),
            models.CheckConstraint(
                condition=models.Q(to_date__gte=models.F("from_date")), name="plan_dates_order"
            ),
        ]
        verbose_name = _("转运计划")
        verbose_name_plural = _("转运计划")

    def __str__(self) -> str:
        return f"plan {self.pk} ({self.status})"


class TripState(models.TextChoices):
    PLANNED = "planned", _("已计划")
    LOCKED = "locked", _("已锁定")
    BOARDING = "boarding", _("检票中")
    DEPARTED = "departed", _("已发车")
    ARRIVED = "arrived", _("已到达")
    CANCELLED = "cancelled", _("已取消")


# Trips a re-plan must keep exactly as they are.
FIXED_TRIP_STATES = (TripState.LOCKED, TripState.BOARDING, TripState.DEPARTED, TripState.ARRIVED)


class Trip(models.Model):
    plan = models.ForeignKey(TransferPlan, on_delete=models.PROTECT, related_name="trip_set")
    coach_type = models.ForeignKey(CoachType, on_delete=models.PROTECT, related_name="+")
    seats = models.PositiveSmallIntegerField(_("座位"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="+")
    city = models.ForeignKey(Destination, on_delete=models.PROTECT, related_name="+")
    departure = models.DateTimeField(_("发车时间"), db_index=True)
    arrival = models.DateTimeField(_("到达时间"))
    night_stop = models.JSONField(_("夜间停车"), default=list, blank=True)
    state = models.CharField(
        _("状态"), max_length=10, choices=TripState.choices, default=TripState.PLANNED
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["departure", "id"]
        indexes = [models.Index(fields=["state", "departure"], name="trip_state_departure")]
        verbose_name = _("车次")
        verbose_name_plural = _("车次")

    def __str__(self) -> str:
        return f"trip {self.pk} {self.departure:%Y-%m-%d %H:%M}"


class TripStop(models.Model):
    class Kind(models.TextChoices):
        PICKUP = "pickup", _("上车点")
        DROPOFF = "dropoff", _("下车点")

    trip = models.ForeignKey(Trip, on_delete=models.CASCADE, related_name="stops")
    order = models.PositiveSmallIntegerField(_("顺序"))
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    destination = models.ForeignKey(
        Destination, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    eta = models.DateTimeField(_("预计时间"))

    class Meta:
        ordering = ["trip_id", "order"]
        constraints = [
            models.UniqueConstraint(fields=["trip", "order"], name="stop_unique_order"),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="pickup", township__isnull=False, destination__isnull=True)
                    | models.Q(kind="dropoff", township__isnull=True, destination__isnull=False)
                ),
                name="stop_point_matches_kind",
            ),
        ]
        verbose_name = _("停靠点")
        verbose_name_plural = _("停靠点")

    def __str__(self) -> str:
        return f"{self.trip_id}.{self.order} {self.kind} {self.point_code}"

    @property
    def point_code(self) -> str:
        return self.township_id or self.destination_id or ""


class Seat(models.Model):
    """One rider on one trip. A laborer holds at most one seat (cancelling deletes seats)."""

    trip = models.ForeignKey(Trip, on_delete=models.CASCADE, related_name="seat_set")
    number = models.PositiveSmallIntegerField(_("座位号"))
    match = models.OneToOneField("matching.Match", on_delete=models.PROTECT, related_name="seat")
    laborer = models.OneToOneField(Laborer, on_delete=models.PROTECT, related_name="seat")
    pickup = models.ForeignKey(TripStop, on_delete=models.PROTECT, related_name="+")
    dropoff = models.ForeignKey(TripStop, on_delete=models.PROTECT, related_name="+")
    boarded_at = models.DateTimeField(_("检票时间"), null=True, blank=True)

    class Meta:
        ordering = ["trip_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["trip", "number"], name="seat_unique_number")
        ]
        verbose_name = _("座位")
        verbose_name_plural = _("座位")

    def __str__(self) -> str:
        return f"trip {self.trip_id} seat {self.number}: {self.laborer_id}"


class TripEvent(models.Model):
    trip = models.ForeignKey(Trip, on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField(max_length=10, blank=True)
    to_state = models.CharField(max_length=10)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("车次状态记录")
        verbose_name_plural = _("车次状态记录")

    def __str__(self) -> str:
        return f"{self.trip_id}: {self.from_state} -> {self.to_state}"


class Notification(models.Model):
    """A message to a laborer about their seat; `signature` keys the seat's content: a
    message goes out only when it differs from the laborer's latest one, so an unchanged
    seat is never announced twice and a seat that changes back is announced again."""

    laborer = models.ForeignKey(Laborer, on_delete=models.CASCADE, related_name="notifications")
    trip = models.ForeignKey(
        Trip, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    signature = models.CharField(max_length=64)
    phone = models.CharField(max_length=11)
    message = models.TextField()
    backend = models.CharField(max_length=100)
    sent = models.BooleanField(default=False)
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("通知")
        verbose_name_plural = _("通知")

    def __str__(self) -> str:
        return f"{self.laborer_id} {self.created_at:%Y-%m-%d %H:%M}"
