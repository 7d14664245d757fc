from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MatchingConfig(AppConfig):
    name = "matching"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("匹配与转运")

    def ready(self) -> None:
        # `workers` and `employers` must not import `matching`: they expose hooks that run on
        # commit after a save, and matching plugs its Celery tasks in here.
        from employers import services as employer_services
        from matching import hooks
        from workers import services as worker_services

        if hooks.on_laborers_saved not in worker_services.laborer_saved_hooks:
            worker_services.laborer_saved_hooks.append(hooks.on_laborers_saved)
        if hooks.on_vacancies_saved not in employer_services.vacancy_saved_hooks:
            employer_services.vacancy_saved_hooks.append(hooks.on_vacancies_saved)
