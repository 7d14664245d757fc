"""Shared vocabulary (regions, destinations, wages, occupations) and accounts.

Region and occupation rows are reference data loaded by data migrations from
`seeds/reference/`; their natural codes are their primary keys so that the API, imports
and the numeric core all speak the same codes.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class County(models.Model):
    code = models.CharField(_("代码"), max_length=6, primary_key=True)
    name = models.CharField(_("名称"), max_length=30)
    pinyin = models.CharField(_("拼音"), max_length=60, blank=True)
    kind = models.CharField(_("类型"), max_length=40, blank=True)
    seat = models.CharField(_("驻地"), max_length=60, blank=True)
    lat = models.FloatField(_("纬度"))
    lng = models.FloatField(_("经度"))
    est_road_km_to_shenzhen = models.PositiveIntegerField(_("至深圳估算公路里程"))
    est_coach_hours_to_shenzhen = models.FloatField(_("至深圳估算客车时长"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("县(市、区)")
        verbose_name_plural = _("县(市、区)")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class LegacyCountyCode(models.Model):
    """Region codes no longer in use but still printed in resident ID numbers."""

    code = models.CharField(_("代码"), max_length=6, primary_key=True)
    county = models.ForeignKey(
        County,
        on_delete=models.CASCADE,
        related_name="legacy_codes",
        verbose_name=_("现县(市、区)"),
    )
    name = models.CharField(_("原名称"), max_length=30)
    valid_from = models.PositiveSmallIntegerField(_("起始年"), null=True, blank=True)
    valid_to = models.PositiveSmallIntegerField(_("终止年"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("旧行政区划代码")
        verbose_name_plural = _("旧行政区划代码")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Township(models.Model):
    """A township-level unit of Baise; each one is a coach pickup point."""

    code = models.CharField(_("代码"), max_length=9, primary_key=True)
    name = models.CharField(_("名称"), max_length=30)
    pinyin = models.CharField(_("拼音"), max_length=60, blank=True)
    county = models.ForeignKey(
        County, on_delete=models.PROTECT, related_name="townships", verbose_name=_("县(市、区)")
    )
    # Pickup coordinates: the township's own where sourced, else its county seat's
    # (`coords_from_seat`), as the reference data has no source for the others.
    lat = models.FloatField(_("纬度"))
    lng = models.FloatField(_("经度"))
    coords_from_seat = models.BooleanField(_("坐标取自县城"), default=False)
    is_seat = models.BooleanField(_("县政府驻地"), default=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("乡镇(街道)")
        verbose_name_plural = _("乡镇(街道)")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Destination(models.Model):
    """A place of work in Guangdong: a city, a district, a factory street or town."""

    class Kind(models.TextChoices):
        CITY = "city", _("地级市")
        DISTRICT = "district", _("区")
        STREET = "street", _("街道")
        TOWN = "town", _("镇")

    code = models.CharField(_("代码"), max_length=9, primary_key=True)
    name = models.CharField(_("名称"), max_length=30)
    pinyin = models.CharField(_("拼音"), max_length=60, blank=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上级"),
    )
    # The city whose minimum wage applies; a city points at itself.
    city = models.ForeignKey(
        "self", on_delete=models.PROTECT, related_name="+", verbose_name=_("所在城市")
    )
    lat = models.FloatField(_("纬度"))
    lng = models.FloatField(_("经度"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("务工目的地")
        verbose_name_plural = _("务工目的地")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def ancestors(self) -> list[Destination]:
        chain: list[Destination] = []
        node = self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain


class MinimumWage(models.Model):
    """A city's legal monthly minimum wage from a date on (dated facts, never edited)."""

    city = models.ForeignKey(
        Destination, on_delete=models.CASCADE, related_name="minimum_wages", verbose_name=_("城市")
    )
    effective_from = models.DateField(_("施行日期"))
    monthly = models.PositiveIntegerField(_("月最低工资(元)"))
    hourly = models.DecimalField(
        _("非全日制小时最低工资(元)"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    source = models.CharField(_("来源"), max_length=300, blank=True)

    class Meta:
        ordering = ["city_id", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["city", "effective_from"], name="minimum_wage_unique_date"
            ),
            models.CheckConstraint(condition=models.Q(monthly__gt=0), name="minimum_wage_positive"),
        ]
        verbose_name = _("最低工资标准")
        verbose_name_plural = _("最低工资标准")

    def __str__(self) -> str:
        return f"{self.city_id} {self.effective_from}: {self.monthly}"


class Occupation(models.Model):
    key = models.CharField(_("键"), max_length=40, primary_key=True)
    name_zh = models.CharField(_("中文名称"), max_length=40)
    name_en = models.CharField(_("英文名称"), max_length=60)
    classification_code = models.CharField(_("职业分类大典代码"), max_length=20, blank=True)
    classification_note = models.CharField(_("分类说明"), max_length=120, blank=True)
    code_confidence = models.CharField(_("代码可信度"), max_length=20, blank=True)
    wage_low = models.PositiveIntegerField(_("深圳常见月薪下限"), null=True, blank=True)
    wage_high = models.PositiveIntegerField(_("深圳常见月薪上限"), null=True, blank=True)
    related = models.ManyToManyField(
        "self", blank=True, symmetrical=True, verbose_name=_("相关职业")
    )

    class Meta:
        ordering = ["key"]
        verbose_name = _("职业")
        verbose_name_plural = _("职业")

    def __str__(self) -> str:
        return f"{self.name_zh} ({self.key})"


class Role(models.TextChoices):
    CASEWORKER = "caseworker", _("县级经办人员")
    EMPLOYER = "employer", _("用人单位")
    COORDINATOR = "coordinator", _("调度员")
    SUPERVISOR = "supervisor", _("督导")
    ADMIN = "admin", _("管理员")


class User(AbstractUser):
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.CASEWORKER)
    counties = models.ManyToManyField(
        County, blank=True, related_name="caseworkers", verbose_name=_("负责县(市、区)")
    )

    class Meta:
        verbose_name = _("账号")
        verbose_name_plural = _("账号")

    @property
    def sees_all_personal_data(self) -> bool:
        return self.role in {Role.SUPERVISOR, Role.ADMIN}


class AccessLog(models.Model):
    """One response that showed full personal data (resident ID or phone).

    Keeps who, when, where and which laborers; never the numbers themselves, and the path
    is stored without its query string (a search may carry an ID number).
    """

    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="access_logs", verbose_name=_("账号")
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    method = models.CharField(_("方法"), max_length=10)
    endpoint = models.CharField(_("接口"), max_length=200)
    laborer_ids = models.JSONField(_("劳动力ID"), default=list)
    laborer_count = models.PositiveIntegerField(_("人数"))

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("个人信息查阅记录")
        verbose_name_plural = _("个人信息查阅记录")

    def __str__(self) -> str:
        return f"{self.user_id} {self.at:%Y-%m-%d %H:%M} {self.endpoint} ({self.laborer_count})"
