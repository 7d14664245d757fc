"""factory_boy factories; every generated identifier is valid (checksums included)."""

from __future__ import annotations

from datetime import date, timedelta

import factory
from django.utils import timezone

from employers.models import Employer, EmployerAccount, Vacancy
from jobmatch.identifiers import USCC_ALPHABET, resident_id_check_character, uscc_check_character
from jobmatch.models import Role, User
from workers.models import Household, Laborer, LaborerSkill

PASSWORD = "correct-horse-battery-staple"


def resident_id(
    n: int, region: str = "451081", birth: date = date(1990, 3, 15), male: bool = True
) -> str:
    """Unique for every n: the sequence digits cycle every 500, then the birth date moves on."""
    seq = (n % 500) * 2 + (1 if male else 0)
    birth = birth + timedelta(days=n // 500)
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + resident_id_check_character(first17)


def uscc(n: int, region: str = "440306") -> str:
    body = ""
    value = n
    for _ in range(9):
        body = USCC_ALPHABET[value % 31] + body
        value //= 31
    first17 = f"91{region}{body}"
    return first17 + uscc_check_character(first17)


def mobile(n: int) -> str:
    return f"138{n % 100_000_000:08d}"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.COORDINATOR
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def counties(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if extracted:
            self.counties.set(extracted)
        self.save()


class EmployerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employer

    name = factory.Sequence(lambda n: f"深圳市测试电子有限公司{n}")
    uscc = factory.Sequence(lambda n: uscc(n + 1))
    destination_id = "440306020"
    address = "宝安区福永街道"
    contact_name = "张经理"
    contact_phone = factory.Sequence(lambda n: mobile(n + 50_000))
    verified = True


class EmployerAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmployerAccount

    user = factory.SubFactory(UserFactory, role=Role.EMPLOYER)
    employer = factory.SubFactory(EmployerFactory)


class VacancyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vacancy

    employer = factory.SubFactory(EmployerFactory)
    title = "电子厂普工"
    occupation_id = "electronics_operator"
    openings = 10
    openings_left = factory.SelfAttribute("openings")
    wage_min = 4500
    wage_max = 6500
    destination_id = "440306020"
    age_min = 18
    age_max = 45
    start_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))
    accommodation = True
    meals = True


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    keep_together = Household.KeepTogether.SAME_EMPLOYER


class LaborerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Laborer
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"黄{n}")
    id_number = factory.Sequence(lambda n: resident_id(n))
    gender = "male"
    birth_date = date(1990, 3, 15)
    phone = factory.Sequence(lambda n: mobile(n))
    county_id = "451081"
    township_id = "451081100"
    village = "新靖村"
    min_monthly_wage = 4000
    available_from = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=7))
    consent_to_share = True

    @factory.post_generation
    def skills(
        self, create: bool, extracted: list[tuple[str, int]] | None, **kwargs: object
    ) -> None:
        for occupation, years in (
            extracted if extracted is not None else [("electronics_operator", 2)]
        ):
            LaborerSkill.objects.create(laborer=self, occupation_id=occupation, years=years)


class MatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "matching.Match"

    laborer = factory.SubFactory(LaborerFactory)
    vacancy = factory.SubFactory(VacancyFactory)
    score = 70
    explanation = factory.LazyAttribute(
        lambda m: {
            "score": m.score,
            "parts": {
                "occupation": 30,
                "wage": 15,
                "destination": 8,
                "start": 7,
                "amenities": 5,
                "priority": m.score - 65,
            },
        }
    )
    status = "proposed"
