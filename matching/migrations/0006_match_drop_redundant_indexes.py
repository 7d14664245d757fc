import django.db.models.deletion
from django.db import migrations, models

# The single-column indexes on match.laborer_id and match.run_id are dropped by name.
# AlterField(db_index=False) alone would drop every index on exactly (laborer_id), the
# partial unique index one_accepted_match_per_laborer included (Django matches indexes
# by their columns), and with it the database's refusal of a second accepted job.
LABORER_INDEX = "matching_match_laborer_id_fe61b565"
RUN_INDEX = "matching_match_run_id_7f367cb6"


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0005_progress_targets"),
        ("workers", "0002_index_cleanup"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="match",
                    name="laborer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="matches",
                        to="workers.laborer",
                    ),
                ),
                migrations.AlterField(
                    model_name="match",
                    name="run",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="matches",
                        to="matching.matchingrun",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {LABORER_INDEX}",
                    f"CREATE INDEX IF NOT EXISTS {LABORER_INDEX} ON matching_match (laborer_id)",
                ),
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {RUN_INDEX}",
                    f"CREATE INDEX IF NOT EXISTS {RUN_INDEX} ON matching_match (run_id)",
                ),
            ],
        ),
    ]
