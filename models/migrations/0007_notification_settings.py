# Notification settings on the user, the unsubscribe URL of an e-mail, and the notices held
# for batched and daily e-mails (services/mail_preferences.py, services/batches.py).
from tortoise import migrations
from tortoise.migrations import operations as ops
from models.user import MilestoneEmailMode
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0006_deadlines')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PendingNotice',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('recipient', fields.ForeignKeyField('models.User', source_field='recipient_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('mode', fields.CharEnumField(description='IMMEDIATE: IMMEDIATE\nBATCHED: BATCHED\nDAILY: DAILY\nOFF: OFF', enum_type=MilestoneEmailMode, max_length=16)),
                ('project_id', fields.IntField()),
                ('milestone_id', fields.IntField()),
                ('actor_name', fields.CharField(max_length=120)),
                ('before', fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ('after', fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'pending_notice', 'app': 'models', 'indexes': [Index(fields=['recipient_id', 'mode', 'project_id'])], 'pk_attr': 'id', 'table_description': "One milestone change waiting for its recipient's batch or daily digest."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='OutboxEmail',
            name='list_unsubscribe',
            field=fields.CharField(null=True, max_length=1000),
        ),
        ops.AddField(
            model_name='User',
            name='milestone_emails',
            field=fields.CharEnumField(default=MilestoneEmailMode.IMMEDIATE, description='IMMEDIATE: IMMEDIATE\nBATCHED: BATCHED\nDAILY: DAILY\nOFF: OFF', enum_type=MilestoneEmailMode, max_length=16),
        ),
        ops.AddField(
            model_name='User',
            name='reminder_emails',
            field=fields.BooleanField(default=True),
        ),
        ops.AddField(
            model_name='User',
            name='time_zone',
            field=fields.CharField(default='UTC', max_length=64),
        ),
    ]
