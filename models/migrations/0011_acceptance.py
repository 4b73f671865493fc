# The client's word on finished work: a completed milestone is accepted (by whom, when),
# or sent back with a reason (change_request); the reminder before automatic acceptance is
# sent once per completion (acceptance_reminded_at).
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0010_unsubscribe_link_versions')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ChangeRequest',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('milestone', fields.ForeignKeyField('models.Milestone', source_field='milestone_id', db_constraint=True, to_field='id', related_name='change_requests', on_delete=OnDelete.CASCADE)),
                ('reason', fields.TextField(unique=False)),
                ('requested_by', fields.ForeignKeyField('models.User', source_field='requested_by_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'change_request', 'app': 'models', 'indexes': [Index(fields=['milestone_id', 'created_at', 'id'])], 'pk_attr': 'id', 'table_description': 'The client sent a completed milestone back, saying why (services/acceptance.py).'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Milestone',
            name='acceptance_reminded_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Milestone',
            name='accepted_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Milestone',
            name='accepted_by',
            field=fields.ForeignKeyField('models.User', source_field='accepted_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddIndex(
            model_name='Milestone',
            index=Index(fields=['accepted_at', 'completed_at']),
        ),
    ]
