from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_sessions_and_secrets')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Project',
            index=Index(fields=['milestone_reminder_queued_at', 'milestones_unlocked_at']),
        ),
    ]
