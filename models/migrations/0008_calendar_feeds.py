# Calendar feeds: each user's secret feed, and the SEQUENCE counter of each milestone's event.
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0007_notification_settings')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CalendarFeed',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='calendar_feed', on_delete=OnDelete.CASCADE)),
                ('nonce', fields.CharField(max_length=64)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('rotated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'calendar_feed', 'app': 'models', 'pk_attr': 'id', 'table_description': "A user's secret calendar feed, found by the SHA-256 of its URL's token."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Milestone',
            name='sequence',
            field=fields.IntField(default=0),
        ),
    ]
