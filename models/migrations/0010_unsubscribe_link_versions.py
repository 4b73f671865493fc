# The version of each kind of e-mail setting, bound into unsubscribe links: turning a kind
# back on makes the links sent before it stop working (services/mail_preferences.py).
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0009_outbox_request_id')]

    initial = False

    operations = [
        ops.AddField(
            model_name='User',
            name='milestone_emails_version',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='User',
            name='reminder_emails_version',
            field=fields.IntField(default=0),
        ),
    ]
