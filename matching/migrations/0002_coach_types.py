from django.db import migrations

# Passenger seats exclude the two drivers. Costs are illustrative charter prices for one
# Baise -> Guangdong run (about 900-1,150 km), for ranking plans, not for invoicing.
COACH_TYPES = [
    ("large53", "大型客车 53座", 53, 9000),
    ("large45", "大型客车 45座", 45, 8200),
    ("medium35", "中型客车 35座", 35, 7000),
]


def load(apps, schema_editor):
    CoachType = apps.get_model("matching", "CoachType")
    for key, name, seats, cost in COACH_TYPES:
        CoachType.objects.update_or_create(key=key, defaults={"name": name, "seats": seats, "cost": cost})


class Migration(migrations.Migration):
    dependencies = [("matching", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
