# A table description must hold no semicolon: the SQLite schema editor splits statements on it.
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ServerSecret',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('value', fields.CharField(max_length=128)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'server_secret', 'app': 'models', 'pk_attr': 'name', 'table_description': 'A named random key (e.g. the one that signs global IDs), created once, on first use.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='AccessToken',
            name='last_used_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
