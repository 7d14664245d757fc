"""The caseworkers' web form: register one laborer from a browser.

The form renders and keeps what was typed; every rule is the API's: the values go through
`LaborerInputSerializer` and `laborer_create`, so a web registration and an API one accept
and refuse exactly the same data, with the same messages.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods
from rest_framework.exceptions import ValidationError

from jobmatch.api.errors import ApplicationError
from jobmatch.models import County, Destination, Occupation, Role
from workers.serializers import LaborerInputSerializer
from workers.services import laborer_create

SKILL_ROWS = 3  # a village registration rarely lists more; the API takes up to ten
TEXT_FIELDS = ("name", "id_number", "phone", "county", "township", "village")
FLAGS = ("poverty_alleviated", "monitored_household", "employment_difficulty", "consent_to_share")


class LaborerRegistrationForm(forms.Form):
    """Widgets and labels only: values are checked by the API's serializer and service."""

    name = forms.CharField(label=_("姓名"), max_length=50)
    id_number = forms.CharField(label=_("身份证号"), max_length=40)
    phone = forms.CharField(label=_("手机号"), max_length=40)
    county = forms.ChoiceField(label=_("县(市、区)"))
    township = forms.ChoiceField(label=_("乡镇(上车点)"))
    village = forms.CharField(label=_("村"), max_length=60, required=False)
    preferred_destinations = forms.MultipleChoiceField(
        label=_("意向务工地(不选为不限)"), required=False
    )
    min_monthly_wage = forms.CharField(label=_("最低期望月薪(元)"), required=False)
    available_from = forms.CharField(
        label=_("可出发日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    poverty_alleviated = forms.BooleanField(label=_("脱贫户"), required=False)
    monitored_household = forms.BooleanField(label=_("监测户"), required=False)
    employment_difficulty = forms.BooleanField(label=_("就业困难人员"), required=False)
    consent_to_share = forms.BooleanField(label=_("本人同意向用工单位推荐"), required=False)

    def __init__(self, *args: Any, counties: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        county_rows = County.objects.filter(code__in=counties).prefetch_related("townships")
        self.fields["county"].choices = [(c.code, c.name) for c in county_rows]
        self.fields["township"].choices = [
            (c.name, [(t.code, t.name) for t in c.townships.order_by("code")]) for c in county_rows
        ]
        self.fields["preferred_destinations"].choices = [
            (d.code, d.name) for d in Destination.objects.filter(kind="city").order_by("code")
        ] + [
            (d.code, f"{d.parent.name if d.parent else ''} {d.name}".strip())
            for d in Destination.objects.exclude(kind="city")
            .select_related("parent")
            .order_by("code")
        ]
        occupations = [("", "—")] + [
            (o.key, o.name_zh) for o in Occupation.objects.order_by("name_zh")
        ]
        for row in range(1, SKILL_ROWS + 1):
            self.fields[f"skill_{row}_occupation"] = forms.ChoiceField(
                label=_("技能 %(row)s") % {"row": row}, choices=occupations, required=False
            )
            self.fields[f"skill_{row}_years"] = forms.CharField(
                label=_("年限"), required=False, widget=forms.NumberInput(attrs={"min": 0})
            )

    def person_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in TEXT_FIELDS]

    def skill_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [
            (self[f"skill_{row}_occupation"], self[f"skill_{row}_years"])
            for row in range(1, SKILL_ROWS + 1)
        ]


def payload_of(post: Any) -> tuple[dict[str, Any], list[int]]:
    """The API's JSON body from the form's fields, and the form rows of the skills sent."""
    data: dict[str, Any] = {name: post.get(name, "").strip() for name in TEXT_FIELDS}
    data["preferred_destinations"] = post.getlist("preferred_destinations")
    wage = post.get("min_monthly_wage", "").strip()
    data["min_monthly_wage"] = wage or None
    available = post.get("available_from", "").strip()
    if available:  # left empty: "required", rather than the API's wrong-format message
        data["available_from"] = available
    for flag in FLAGS:
        data[flag] = post.get(flag) == "on"
    skills, rows = [], []
    for row in range(1, SKILL_ROWS + 1):
        occupation = post.get(f"skill_{row}_occupation", "").strip()
        if occupation:
            years = post.get(f"skill_{row}_years", "").strip()
            skills.append({"occupation": occupation, **({"years": years} if years else {})})
            rows.append(row)
    data["skills"] = skills
    return data, rows


def _form_field(form: forms.Form, key: str, skill_rows: list[int]) -> str | None:
    """The form field an API error key belongs to (`skills[1].years` -> `skill_2_years`)."""
    if key.startswith("skills[") and "]" in key:
        index = int(key[len("skills[") : key.index("]")])
        part = key[key.index("]") + 2 :] or "occupation"
        if index < len(skill_rows):
            return f"skill_{skill_rows[index]}_{part}"
        return None
    base = key.split(".", 1)[0].split("[", 1)[0]
    return base if base in form.fields else None


def _flatten(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(errors, dict):
        out: dict[str, list[str]] = {}
        for key, value in errors.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(errors, list) and errors and not isinstance(errors[0], str):
        out = {}
        for index, value in enumerate(errors):
            if value:
                out.update(_flatten(value, f"{prefix}[{index}]"))
        return out
    return {prefix: [str(e) for e in errors] if isinstance(errors, list) else [str(errors)]}


def _show_errors(form: forms.Form, errors: dict[str, Any], skill_rows: list[int]) -> None:
    for key, field_messages in _flatten(errors).items():
        field = _form_field(form, key, skill_rows)
        for message in field_messages:
            form.add_error(field, message)


@login_required
@require_http_methods(["GET", "POST"])
def laborer_register(request: HttpRequest) -> HttpResponse:
    user = request.user
    if getattr(user, "role", None) != Role.CASEWORKER:
        raise PermissionDenied(gettext("Only caseworkers register laborers."))
    counties = sorted(user.counties.values_list("code", flat=True))  # type: ignore[union-attr]
    if request.method == "GET":
        form = LaborerRegistrationForm(counties=counties)
        return render(request, "workers/laborer_register.html", {"form": form})

    form = LaborerRegistrationForm(request.POST, counties=counties)
    form.is_valid()  # only to allow add_error; the rules are the API's, below
    form.errors.clear()
    data, skill_rows = payload_of(request.POST)
    serializer = LaborerInputSerializer(data=data)
    try:
        serializer.is_valid(raise_exception=True)
        laborer = laborer_create(actor=user, data=serializer.validated_data)
    except ValidationError as exc:
        _show_errors(form, exc.detail, skill_rows)
    except ApplicationError as exc:
        if exc.extra and any(key != "existing_id" for key in exc.extra):
            _show_errors(form, exc.extra, skill_rows)
        else:
            form.add_error(None, exc.message)
    else:
        messages.success(
            request,
            _("已登记:%(name)s(编号 %(id)s)") % {"name": laborer.name, "id": laborer.pk},
        )
        return redirect("laborer-register")
    return render(request, "workers/laborer_register.html", {"form": form}, status=400)
