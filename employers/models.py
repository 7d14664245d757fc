"""Employers in Guangdong and the vacancies they post."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jobmatch.models import Destination, Occupation


class Employer(models.Model):
    name = models.CharField(_("单位名称"), max_length=100)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    destination = models.ForeignKey(
        Destination, on_delete=models.PROTECT, related_name="+", verbose_name=_("所在地")
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=11, blank=True)
    verified = models.BooleanField(_("已核验"), default=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("用人单位")
        verbose_name_plural = _("用人单位")

    def __str__(self) -> str:
        return self.name


class EmployerAccount(models.Model):
    """Ties an account of role `employer` to the one employer it acts for.

    It lives here, not on the user, so that `jobmatch` never depends on `employers`.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="employer_account",
        verbose_name=_("账号"),
    )
    employer = models.ForeignKey(
        Employer, on_delete=models.CASCADE, related_name="accounts", verbose_name=_("用人单位")
    )

    class Meta:
        verbose_name = _("用人单位账号")
        verbose_name_plural = _("用人单位账号")

    def __str__(self) -> str:
        return f"{self.user_id} -> {self.employer_id}"


class VacancyStatus(models.TextChoices):
    OPEN = "open", _("招聘中")
    FILLED = "filled", _("已招满")
    CLOSED = "closed", _("已关闭")


class Vacancy(models.Model):
    employer = models.ForeignKey(
        Employer, on_delete=models.PROTECT, related_name="vacancies", verbose_name=_("用人单位")
    )
    title = models.CharField(_("岗位名称"), max_length=100)
    occupation = models.ForeignKey(
        Occupation, on_delete=models.PROTECT, related_name="+", verbose_name=_("职业")
    )
    openings = models.PositiveIntegerField(_("招聘人数"))
    # Maintained under a row lock when a laborer accepts (matching): never below zero.
    openings_left = models.PositiveIntegerField(_("剩余名额"))
    wage_min = models.PositiveIntegerField(_("月薪下限(元)"))
    wage_max = models.PositiveIntegerField(_("月薪上限(元)"))
    destination = models.ForeignKey(
        Destination, on_delete=models.PROTECT, related_name="+", verbose_name=_("工作地点")
    )
    age_min = models.PositiveSmallIntegerField(_("最低年龄"), default=16)
    age_max = models.PositiveSmallIntegerField(_("最高年龄"), default=60)
    start_date = models.DateField(_("到岗日期"))
    end_date = models.DateField(_("截止日期"), null=True, blank=True)
    accommodation = models.BooleanField(_("包住"), default=False)
    meals = models.BooleanField(_("包吃"), default=False)
    status = models.CharField(
        _("状态"), max_length=10, choices=VacancyStatus.choices, default=VacancyStatus.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("发布人"),
    )
    created_at = models.DateTimeField(_("发布时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["status", "occupation"], name="vacancy_status_occupation"),
            models.Index(fields=["employer", "id"], name="vacancy_employer_id"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(openings__gte=1), name="vacancy_openings_min"
            ),
            models.CheckConstraint(
                condition=models.Q(openings_left__lte=models.F("openings")),
                name="vacancy_openings_left_le_openings",
            ),
            models.CheckConstraint(
                condition=models.Q(wage_max__gte=models.F("wage_min")), name="vacancy_wage_order"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    age_min__gte=16, age_max__lte=65, age_max__gte=models.F("age_min")
                ),
                name="vacancy_age_range",
            ),
        ]
        verbose_name = _("岗位")
        verbose_name_plural = _("岗位")

    def __str__(self) -> str:
        return f"{self.title} ({self.pk})"
