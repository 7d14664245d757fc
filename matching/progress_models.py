"""The year's targets that supervisors follow progress against (`matching.services.progress`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jobmatch.models import County


class Indicator(models.TextChoices):
    """What the cooperation counts, each from the laborers' status history in the year."""

    REGISTERED = "registered", _("登记返乡劳动力")
    HIRED = "hired", _("录用(接受岗位)")
    TRANSFERRED = "transferred", _("点对点输送")
    EMPLOYED = "employed", _("到岗就业")
    POVERTY_ALLEVIATED_HIRED = "poverty_alleviated_hired", _("脱贫劳动力录用")
    HARD_TO_EMPLOY_HIRED = "hard_to_employ_hired", _("就业困难人员录用")


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
