# The request that queued an e-mail, so that the delivery worker's log lines name it.
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0008_calendar_feeds')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OutboxEmail',
            name='request_id',
            field=fields.CharField(null=True, max_length=128),
        ),
    ]
