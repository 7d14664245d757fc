from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobmatchConfig(AppConfig):
    name = "jobmatch"
    verbose_name = _("基础数据与账号")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from jobmatch.auth import on_logged_in, on_login_failed

        user_login_failed.connect(on_login_failed, dispatch_uid="jobmatch-login-failed")
        user_logged_in.connect(on_logged_in, dispatch_uid="jobmatch-logged-in")
