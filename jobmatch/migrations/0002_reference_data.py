from django.db import migrations

from seeds.reference import load_reference


def load(apps, schema_editor):
    load_reference(apps)


class Migration(migrations.Migration):
    dependencies = [("jobmatch", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
