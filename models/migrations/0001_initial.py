from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.chat import ChatEventKind
from models.outbox import EmailStatus
from models.user import Role
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='OutboxEmail',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message_id', fields.CharField(unique=True, max_length=255)),
                ('kind', fields.CharField(max_length=64)),
                ('to_address', fields.CharField(max_length=254)),
                ('to_name', fields.CharField(default='', max_length=120)),
                ('subject', fields.CharField(max_length=400)),
                ('text_body', fields.TextField(unique=False)),
                ('html_body', fields.TextField(unique=False)),
                ('project_id', fields.IntField(null=True)),
                ('status', fields.CharEnumField(default=EmailStatus.PENDING, description='PENDING: PENDING\nSENT: SENT\nFAILED: FAILED', enum_type=EmailStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('locked_by', fields.CharField(null=True, max_length=64)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'outbox_email', 'app': 'models', 'indexes': [Index(fields=['status', 'next_attempt_at'])], 'pk_attr': 'id', 'table_description': 'A fully rendered e-mail waiting for (or done with) delivery.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(unique=True, max_length=254)),
                ('name', fields.CharField(max_length=120)),
                ('role', fields.CharEnumField(description='CLIENT: CLIENT\nFREELANCER: FREELANCER\nADMIN: ADMIN', enum_type=Role, max_length=16)),
                ('password_hash', fields.CharField(max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'users', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A person on the platform. The e-mail address is stored lower-cased and unique.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AccessToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='tokens', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'access_token', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A signed-in session. Only a SHA-256 of the bearer token is kept, and logging out deletes it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Project',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('client', fields.ForeignKeyField('models.User', source_field='client_id', db_constraint=True, to_field='id', related_name='client_projects', on_delete=OnDelete.RESTRICT)),
                ('freelancer', fields.ForeignKeyField('models.User', source_field='freelancer_id', db_constraint=True, to_field='id', related_name='freelancer_projects', on_delete=OnDelete.RESTRICT)),
                ('completion_date', fields.DateField()),
                ('initial_payment_required', fields.BooleanField(default=True)),
                ('initial_payment_completed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('milestones_unlocked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('milestone_reminder_queued_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'project', 'app': 'models', 'indexes': [Index(fields=['client_id']), Index(fields=['freelancer_id'])], 'pk_attr': 'id', 'table_description': 'A client engaging one freelancer, with an agreed completion date.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Milestone',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='milestones', on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=120)),
                ('description', fields.TextField(default='', unique=False)),
                ('due_date', fields.DateField()),
                ('completed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('completed_by', fields.ForeignKeyField('models.User', source_field='completed_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'milestone', 'app': 'models', 'indexes': [Index(fields=['project_id', 'due_date', 'id'])], 'pk_attr': 'id', 'table_description': 'A dated step of a project, ticked off by the freelancer.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ChatMessage',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('models.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='chat_messages', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='MESSAGE: MESSAGE\nMILESTONES_UNLOCKED: MILESTONES_UNLOCKED\nMILESTONE_ADDED: MILESTONE_ADDED\nMILESTONE_EDITED: MILESTONE_EDITED\nMILESTONE_DELETED: MILESTONE_DELETED\nMILESTONE_COMPLETED: MILESTONE_COMPLETED\nMILESTONE_REOPENED: MILESTONE_REOPENED', enum_type=ChatEventKind, max_length=32)),
                ('body', fields.TextField(unique=False)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('actor', fields.ForeignKeyField('models.User', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('milestone', fields.ForeignKeyField('models.Milestone', source_field='milestone_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('changes', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'chat_message', 'app': 'models', 'indexes': [Index(fields=['project_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One line of a project chat. Ids grow in commit order within a project.'},
            bases=['Model'],
        ),
    ]
