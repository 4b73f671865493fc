# Project time zones (existing projects get UTC), and the due-soon and overdue reminders
# armed per milestone.
from tortoise import migrations
from tortoise.migrations import operations as ops
from models.project import ReminderKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_idempotency_keys')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MilestoneReminder',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('milestone', fields.ForeignKeyField('models.Milestone', source_field='milestone_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('due_date', fields.DateField()),
                ('kind', fields.CharEnumField(description='DUE_SOON: DUE_SOON\nOVERDUE: OVERDUE', enum_type=ReminderKind, max_length=16)),
                ('offset_days', fields.IntField()),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('repeat', fields.BooleanField(default=False)),
                ('settled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'milestone_reminder', 'app': 'models', 'unique_together': (('milestone_id', 'due_date', 'kind', 'offset_days'),), 'indexes': [Index(fields=['settled_at', 'due_at'])], 'pk_attr': 'id', 'table_description': 'One due-soon or overdue reminder of a milestone, armed ahead of its moment.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Project',
            name='time_zone',
            field=fields.CharField(default='UTC', db_default='UTC', max_length=64),
        ),
    ]
