# Indexes on the foreign keys whose parent rows the server deletes or looks up by: without
# them each such statement reads the whole child table (see models/ for which and why).
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_reminder_due_index')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='ChatMessage',
            index=Index(fields=['milestone_id']),
        ),
        ops.AddIndex(
            model_name='AccessToken',
            index=Index(fields=['user_id']),
        ),
    ]
