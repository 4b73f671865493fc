# Kept responses of mutations sent with an Idempotency-Key (models/idempotency_key.py).
# A table description must hold no semicolon: the SQLite schema editor splits statements on it.
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_foreign_key_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='IdempotencyKey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='idempotency_keys', on_delete=OnDelete.CASCADE)),
                ('key_hash', fields.CharField(max_length=64)),
                ('fingerprint', fields.CharField(max_length=64)),
                ('holder', fields.CharField(max_length=32)),
                ('status_code', fields.IntField(null=True)),
                ('content_type', fields.CharField(default='', max_length=128)),
                ('body', fields.BinaryField(null=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'idempotency_key', 'app': 'models', 'unique_together': (('user', 'key_hash'),), 'indexes': [Index(fields=['expires_at'])], 'pk_attr': 'id', 'table_description': "A user's Idempotency-Key: held while its request runs, then its response, for replays."},
            bases=['Model'],
        ),
    ]
