"""The year's targets that supervisors follow progress against (`matching.services.progress`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jobmatch.models import County


class Indicator(models.TextChoices):
    """What the cooperation counts: the first six from the laborers' status history in the
    year, the last four (Guangxi's official indicators) from the counties' daily reports."""

    REGISTERED = "registered", _("登记返乡劳动力")
    HIRED = "hired", _("录用(接受岗位)")
    TRANSFERRED = "transferred", _("点对点输送")
    EMPLOYED = "employed", _("到岗就业")
    POVERTY_ALLEVIATED_HIRED = "poverty_alleviated_hired", _("脱贫劳动力录用")
    HARD_TO_EMPLOY_HIRED = "hard_to_employ_hired", _("就业困难人员录用")
    RURAL_LABOUR_OUT = "rural_labour_out", _("农村劳动力转移就业(外出务工)")
    URBAN_NEW_JOBS = "urban_new_jobs", _("城镇新增就业")
    UNEMPLOYED_REEMPLOYED = "unemployed_reemployed", _("失业人员再就业")
    HARD_TO_EMPLOY_REEMPLOYED = "hard_to_employ_reemployed", _("就业困难人员再就业")


# Counted by the county offices outside this system and reported day by day.
REPORTED_INDICATORS = (
    Indicator.RURAL_LABOUR_OUT,
    Indicator.URBAN_NEW_JOBS,
    Indicator.UNEMPLOYED_REEMPLOYED,
    Indicator.HARD_TO_EMPLOY_REEMPLOYED,
)


class ProgressTarget(models.Model):
    """A year's target for one indicator, for one county or (county empty) all of Baise."""

    year = models.PositiveSmallIntegerField(_("年度"))
    indicator = models.CharField(_("指标"), max_length=30, choices=Indicator.choices)
    county = models.ForeignKey(
        County,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("县(市、区)"),
    )
    target = models.PositiveIntegerField(_("年度目标"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("修改人"),
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        ordering = ["year", "indicator", "county_id"]
        constraints = [
            # NULL counties are distinct in a plain unique constraint: two partial ones.
            models.UniqueConstraint(
                fields=["year", "indicator", "county"],
                condition=models.Q(county__isnull=False),
                name="progress_target_unique_county",
            ),
            models.UniqueConstraint(
                fields=["year", "indicator"],
                condition=models.Q(county__isnull=True),
                name="progress_target_unique_baise",
            ),
            models.CheckConstraint(
                condition=models.Q(target__gt=0), name="progress_target_positive"
            ),
        ]
        verbose_name = _("年度目标")
        verbose_name_plural = _("年度目标")

    def __str__(self) -> str:
        return f"{self.year} {self.indicator} {self.county_id or 'Baise'}: {self.target}"


class CountyReport(models.Model):
    """A county office's figure for one reported indicator on one day (that day's new
    count; a second report of the same day replaces the first)."""

    county = models.ForeignKey(
        County, on_delete=models.PROTECT, related_name="+", verbose_name=_("县(市、区)")
    )
    date = models.DateField(_("日期"))
    indicator = models.CharField(
        _("指标"),
        max_length=30,
        choices=[(i.value, i.label) for i in REPORTED_INDICATORS],
    )
    count = models.PositiveIntegerField(_("当日新增"))
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("填报人"),
    )
    updated_at = models.DateTimeField(_("填报时间"), auto_now=True)

    class Meta:
        ordering = ["date", "county_id", "indicator"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "date", "indicator"], name="county_report_unique_day"
            )
        ]
        verbose_name = _("县级日报")
        verbose_name_plural = _("县级日报")

    def __str__(self) -> str:
        return f"{self.date} {self.county_id} {self.indicator}: {self.count}"
