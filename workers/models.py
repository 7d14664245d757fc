"""Laborers registered by county caseworkers, their households and status history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jobmatch.models import County, Destination, Occupation, Township


class Household(models.Model):
    class KeepTogether(models.TextChoices):
        SAME_EMPLOYER = "same_employer", _("同一用人单位")
        SAME_CITY = "same_city", _("同一城市")

    keep_together = models.CharField(
        _("安排方式"),
        max_length=20,
        choices=KeepTogether.choices,
        default=KeepTogether.SAME_EMPLOYER,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("登记人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("家庭")
        verbose_name_plural = _("家庭")

    def __str__(self) -> str:
        return f"家庭 {self.pk}"


class LaborerStatus(models.TextChoices):
    REGISTERED = "registered", _("已登记")
    MATCHED = "matched", _("已录用")
    SCHEDULED = "scheduled", _("已排车")
    DEPARTED = "departed", _("已出发")
    ARRIVED = "arrived", _("已到岗")
    EMPLOYED = "employed", _("已上岗")


class Gender(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class Laborer(models.Model):
    name = models.CharField(_("姓名"), max_length=50)
    # The full 18-character resident ID; shown only to those who may see it (masked for
    # the rest) and every full read is logged.
    id_number = models.CharField(_("身份证号"), max_length=18, unique=True)
    gender = models.CharField(_("性别"), max_length=6, choices=Gender.choices)
    birth_date = models.DateField(_("出生日期"))
    from_outside_baise = models.BooleanField(_("非百色籍"), default=False)
    phone = models.CharField(_("手机号"), max_length=11)
    # County and township lookups use the (county, id) and (township, id) indexes below;
    # single-column indexes (and PostgreSQL's extra pattern index on text keys) would only
    # slow every write of a 1.46-million-row table.
    county = models.ForeignKey(
        County,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("县(市、区)"),
        db_index=False,
    )
    township = models.ForeignKey(
        Township,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("乡镇(街道)"),
        db_index=False,
    )
    village = models.CharField(_("村(社区)"), max_length=60, blank=True)
    preferred_destinations = models.ManyToManyField(
        Destination, blank=True, related_name="+", verbose_name=_("意向务工地")
    )
    min_monthly_wage = models.PositiveIntegerField(_("期望最低月薪(元)"), null=True, blank=True)
    available_from = models.DateField(_("可出发日期"))
    household = models.ForeignKey(
        Household,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("家庭"),
    )
    poverty_alleviated = models.BooleanField(_("脱贫户"), default=False)
    monitored_household = models.BooleanField(_("监测户"), default=False)
    employment_difficulty = models.BooleanField(_("就业困难人员"), default=False)
    consent_to_share = models.BooleanField(_("同意共享求职信息"), default=False)
    status = models.CharField(
        _("状态"), max_length=20, choices=LaborerStatus.choices, default=LaborerStatus.REGISTERED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("登记人"),
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["county", "id"], name="laborer_county_id"),
            models.Index(fields=["township", "id"], name="laborer_township_id"),
            models.Index(fields=["status", "id"], name="laborer_status_id"),
            models.Index(fields=["name"], name="laborer_name"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_monthly_wage__isnull=True)
                | models.Q(min_monthly_wage__gt=0),
                name="laborer_min_wage_positive",
            ),
        ]
        verbose_name = _("劳动力")
        verbose_name_plural = _("劳动力")

    def __str__(self) -> str:
        return f"{self.name} ({self.pk})"


class LaborerSkill(models.Model):
    laborer = models.ForeignKey(
        Laborer, on_delete=models.CASCADE, related_name="skills", verbose_name=_("劳动力")
    )
    # Covered by the (occupation, laborer) index.
    occupation = models.ForeignKey(
        Occupation,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("职业"),
        db_index=False,
    )
    years = models.PositiveSmallIntegerField(_("从业年限"), default=0)

    class Meta:
        ordering = ["laborer_id", "occupation_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["laborer", "occupation"], name="skill_unique_occupation"
            ),
            models.CheckConstraint(condition=models.Q(years__lte=60), name="skill_years_range"),
        ]
        indexes = [models.Index(fields=["occupation", "laborer"], name="skill_occupation_laborer")]
        verbose_name = _("技能")
        verbose_name_plural = _("技能")

    def __str__(self) -> str:
        return f"{self.laborer_id}: {self.occupation_id} {self.years}"


class StatusEvent(models.Model):
    """A change of a laborer's status: who, when, from what to what."""

    laborer = models.ForeignKey(
        Laborer, on_delete=models.CASCADE, related_name="events", verbose_name=_("劳动力")
    )
    from_status = models.CharField(_("原状态"), max_length=20, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("状态记录")
        verbose_name_plural = _("状态记录")

    def __str__(self) -> str:
        return f"{self.laborer_id}: {self.from_status} -> {self.to_status}"
