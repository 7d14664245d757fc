from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SeedsConfig(AppConfig):
    name = "seeds"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("演示数据")
