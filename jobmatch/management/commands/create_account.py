from django.core.management.base import BaseCommand, CommandError, CommandParser

from jobmatch.api.errors import ApplicationError
from jobmatch.models import Role
from jobmatch.services import account_upsert


class Command(BaseCommand):
    help = "Create or update an account (non-interactive, usable from scripts)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--county", action="append", default=[], help="county code (repeat)")
        parser.add_argument("--employer", help="the employer's unified social credit code")
        parser.add_argument("--password", help="required for a new account")

    def handle(self, *args: object, **options: object) -> None:
        try:
            user, created = account_upsert(
                username=str(options["username"]),
                role=str(options["role"]),
                password=options["password"],  # type: ignore[arg-type]
                counties=options["county"],  # type: ignore[arg-type]
                employer_uscc=options["employer"],  # type: ignore[arg-type]
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} account {user.username} ({user.role}).")
