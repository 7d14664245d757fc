"""Matching: versioned policies, rounds, matches and their events, interactive
suggestions; transfers (point-to-point coaches) live in `matching.transfer_models`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from employers.models import Vacancy
from workers.models import Laborer


class MatchingPolicy(models.Model):
    """Score weights; every edit is a new version and every round records the one it used."""

    version = models.PositiveIntegerField(_("版本"), unique=True)
    weights = models.JSONField(_("权重与参数"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("匹配策略")
        verbose_name_plural = _("匹配策略")

    def __str__(self) -> str:
        return f"v{self.version}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("运行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class MatchingRun(models.Model):
    status = models.CharField(
        _("状态"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    # True while queued or running: a partial unique index allows one active round.
    active = models.BooleanField(default=True, editable=False)
    progress = models.FloatField(_("进度"), default=0.0)
    counties = models.JSONField(_("限定县(市、区)"), default=list, blank=True)
    occupations = models.JSONField(_("限定职业"), default=list, blank=True)
    policy = models.ForeignKey(MatchingPolicy, on_delete=models.PROTECT, related_name="runs")
    laborers = models.PositiveIntegerField(_("参与劳动力"), default=0)
    openings = models.PositiveIntegerField(_("可用名额"), default=0)
    candidate_pairs = models.BigIntegerField(_("候选对"), default=0)
    assigned = models.PositiveIntegerField(_("匹配人数"), default=0)
    total_score = models.BigIntegerField(_("总分"), default=0)
    upper_bound = models.BigIntegerField(_("上界"), null=True, blank=True)
    gap = models.FloatField(_("与上界差距"), null=True, blank=True)
    # The bound that keeps the household rules and prices the openings (see
    # matching.core.pricing); null until computed: rounds of over 5 million pairs add it
    # after they are done (about a minute at Baise scale), and stay null if that fails.
    household_bound = models.BigIntegerField(_("保持家庭同行的上界"), null=True, blank=True)
    household_gap = models.FloatField(_("与家庭上界差距"), null=True, blank=True)
    seconds = models.FloatField(_("耗时(秒)"), null=True, blank=True)
    stats = models.JSONField(_("各阶段统计"), default=dict, blank=True)
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
                fields=["active"], condition=models.Q(active=True), name="one_active_matching_run"
            ),
        ]
        verbose_name = _("匹配轮次")
        verbose_name_plural = _("匹配轮次")

    def __str__(self) -> str:
        return f"run {self.pk} ({self.status})"


class MatchStatus(models.TextChoices):
    PROPOSED = "proposed", _("推荐")
    OFFERED = "offered", _("已发出录用")
    ACCEPTED = "accepted", _("已接受")
    DECLINED = "declined", _("劳动力已拒绝")
    REJECTED = "rejected", _("单位已拒绝")
    WITHDRAWN = "withdrawn", _("已撤回")


OPEN_MATCH_STATUSES = (MatchStatus.PROPOSED, MatchStatus.OFFERED)


class Match(models.Model):
    # Only a laborer still `registered` can be deleted (never one who accepted a job): their
    # proposals and declined matches go with them.
    # No single-column indexes on laborer and run: match_laborer_status and match_run_id
    # start with them and serve the same lookups. A round writes hundreds of thousands of
    # proposals, and every index costs time on each of them.
    laborer = models.ForeignKey(
        Laborer, on_delete=models.CASCADE, related_name="matches", db_index=False
    )
    vacancy = models.ForeignKey(Vacancy, on_delete=models.PROTECT, related_name="matches")
    run = models.ForeignKey(
        MatchingRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="matches",
        db_index=False,
    )
    score = models.PositiveSmallIntegerField(_("得分"))
    explanation = models.JSONField(_("得分说明"), default=dict)
    status = models.CharField(
        _("状态"), max_length=10, choices=MatchStatus.choices, default=MatchStatus.PROPOSED
    )
    # The employer confirms the laborer started work (after the coach's arrival).
    employed_at = models.DateTimeField(_("上岗确认时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # A laborer holds at most one accepted job: the database refuses a second.
            models.UniqueConstraint(
                fields=["laborer"],
                condition=models.Q(status="accepted"),
                name="one_accepted_match_per_laborer",
            ),
            models.UniqueConstraint(
                fields=["laborer", "vacancy"],
                condition=models.Q(status__in=["proposed", "offered", "accepted"]),
                name="one_open_match_per_pair",
            ),
            models.CheckConstraint(condition=models.Q(score__lte=100), name="match_score_range"),
        ]
        indexes = [
            models.Index(fields=["status", "vacancy"], name="match_status_vacancy"),
            models.Index(fields=["laborer", "status"], name="match_laborer_status"),
            models.Index(fields=["run", "id"], name="match_run_id"),
        ]
        verbose_name = _("匹配")
        verbose_name_plural = _("匹配")

    def __str__(self) -> str:
        return f"{self.laborer_id} -> {self.vacancy_id} ({self.status})"


class MatchEvent(models.Model):
    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(_("原状态"), max_length=10, blank=True)
    to_status = models.CharField(_("新状态"), max_length=10)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("匹配状态记录")
        verbose_name_plural = _("匹配状态记录")

    def __str__(self) -> str:
        return f"{self.match_id}: {self.from_status} -> {self.to_status}"


class Suggestion(models.Model):
    """A laborer's best open vacancies, computed when the laborer is saved."""

    laborer = models.ForeignKey(Laborer, on_delete=models.CASCADE, related_name="suggestions")
    vacancy = models.ForeignKey(Vacancy, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()
    score = models.PositiveSmallIntegerField()
    explanation = models.JSONField(default=dict)
    computed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["laborer_id", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["laborer", "rank"], name="suggestion_unique_rank")
        ]
        verbose_name = _("岗位推荐")
        verbose_name_plural = _("岗位推荐")

    def __str__(self) -> str:
        return f"{self.laborer_id} #{self.rank}: {self.vacancy_id} ({self.score})"


class Candidate(models.Model):
    """A vacancy's best laborers, computed when the vacancy is saved."""

    vacancy = models.ForeignKey(Vacancy, on_delete=models.CASCADE, related_name="candidates")
    laborer = models.ForeignKey(Laborer, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()
    score = models.PositiveSmallIntegerField()
    explanation = models.JSONField(default=dict)
    computed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["vacancy_id", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["vacancy", "rank"], name="candidate_unique_rank")
        ]
        verbose_name = _("候选劳动力")
        verbose_name_plural = _("候选劳动力")

    def __str__(self) -> str:
        return f"{self.vacancy_id} #{self.rank}: {self.laborer_id} ({self.score})"


from matching.progress_models import CountyReport, Indicator, ProgressTarget  # noqa: E402
from matching.transfer_models import (  # noqa: E402  (models Django must discover here)
    CoachType,
    Notification,
    Seat,
    TransferPlan,
    Trip,
    TripEvent,
    TripStop,
)

__all__ = [
    "Candidate",
    "CoachType",
    "CountyReport",
    "Indicator",
    "Match",
    "MatchEvent",
    "MatchingPolicy",
    "MatchingRun",
    "Notification",
    "ProgressTarget",
    "Seat",
    "Suggestion",
    "TransferPlan",
    "Trip",
    "TripEvent",
    "TripStop",
]
