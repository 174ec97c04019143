"""A bucket that refuses our key says which credential or permission to fix, never the secret.

The server is moto with its IAM checks on (S3AuthServer): keys are IAM users' access keys, and
each user's policy allows chosen actions on one bucket only.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from s3_auth_server import S3AuthServer
from source_helpers import make_spec

from inventory_sync.clock import FixedClock
from inventory_sync.errors import SourceMisconfigured
from inventory_sync.sources.csv_file import KIND, CsvOptions

FEED = "sku,quantity\nA,1\nB,2\n"
UNKNOWN_KEY_ID = "AKIANOSUCHKEY0000000"


@pytest.fixture(scope="module")
def s3_auth_server():
    with S3AuthServer() as running:
        yield running


@pytest.fixture
def clock() -> FixedClock:
    # The server stamps uploads with the real time: an hour later, every feed is stable.
    return FixedClock(datetime.now(UTC) + timedelta(hours=1))


@pytest.fixture
def bucket(s3_auth_server) -> str:
    """A bucket of this test's own, holding one feed."""
    name = f"feeds-{uuid.uuid4().hex[:10]}"
    s3_auth_server.admin().create_bucket(Bucket=name)
    s3_auth_server.put(name, "in/stock.csv", FEED.encode())
    return name


@pytest.fixture
def source(context, secrets, s3_auth_server, bucket):
    """The bucket's csv source, reading with whatever key pair the test gives it."""

    def build(key_id: str, secret: str, **options):
        secrets.values.update(feeds_key_id=key_id, feeds_secret=secret)
        s3 = {
            "endpoint_url": s3_auth_server.endpoint,
            "access_key_id_secret": "feeds_key_id",
            "secret_access_key_secret": "feeds_secret",
        }
        path = f"s3://{bucket}/in/*.csv"
        return KIND.build(make_spec(), CsvOptions(path=path, s3=s3, **options), context)

    return build


def refusal(action, secret: str) -> SourceMisconfigured:
    with pytest.raises(SourceMisconfigured) as raised:
        action()
    assert secret not in str(raised.value)
    return raised.value


class TestS3Keys:
    def test_a_key_allowed_on_the_bucket_reads_the_feed_and_archives_it(
        self, source, s3_auth_server, bucket
    ):
        key_id, secret = s3_auth_server.grant(f"reader-{bucket}", bucket)
        feed = source(key_id, secret, archive_dir="/done")
        snapshot = feed.pull()
        assert snapshot.row_count == 2
        feed.commit(snapshot)
        assert s3_auth_server.keys(bucket, "") == ["done/stock.csv"]

    def test_a_wrong_secret_names_the_secret_option(self, source, s3_auth_server, bucket):
        key_id, _ = s3_auth_server.grant(f"reader-{bucket}", bucket)
        wrong = "wrong-secret-" + uuid.uuid4().hex
        error = refusal(source(key_id, wrong).pull, wrong)
        assert error.key == "options.s3.secret_access_key_secret"
        assert "refused the secret access key (credential 'feeds_secret')" in str(error)
        assert "(SignatureDoesNotMatch)" in str(error)

    def test_an_unknown_access_key_id_names_the_key_id_option(self, source):
        wrong = "wrong-secret-" + uuid.uuid4().hex
        error = refusal(source(UNKNOWN_KEY_ID, wrong).pull, wrong)
        assert error.key == "options.s3.access_key_id_secret"
        assert "does not know the access key id (credential 'feeds_key_id')" in str(error)
        assert UNKNOWN_KEY_ID not in str(error), "the message names the credential, not its value"

    def test_a_key_from_the_environment_is_named_as_botocores_chain(
        self, context, s3_auth_server, bucket, monkeypatch
    ):
        wrong = "wrong-secret-" + uuid.uuid4().hex
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", UNKNOWN_KEY_ID)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", wrong)
        s3 = {"endpoint_url": s3_auth_server.endpoint}
        options = CsvOptions(path=f"s3://{bucket}/in/*.csv", s3=s3)
        error = refusal(KIND.build(make_spec(), options, context).pull, wrong)
        assert error.key == "options.s3.access_key_id_secret"
        assert "access key id (from botocore's chain: AWS_ACCESS_KEY_ID," in str(error)

    def test_no_key_anywhere_says_where_to_give_one(
        self, context, s3_auth_server, bucket, tmp_path, monkeypatch
    ):
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance role either
        # A region of its own: fsspec keeps one client per set of arguments, and the client of
        # the test above holds the key it found in the environment.
        s3 = {"endpoint_url": s3_auth_server.endpoint, "region": "eu-west-3"}
        options = CsvOptions(path=f"s3://{bucket}/in/*.csv", s3=s3)
        with pytest.raises(SourceMisconfigured) as raised:
            KIND.build(make_spec(), options, context).pull()
        assert raised.value.key == "options.s3.access_key_id_secret"
        assert "no access key to sign requests to" in str(raised.value)


class TestS3Permissions:
    def test_a_key_allowed_only_on_another_bucket_is_denied_naming_this_bucket(
        self, source, s3_auth_server, bucket
    ):
        key_id, secret = s3_auth_server.grant(f"other-{bucket}", f"other-{bucket}")
        error = refusal(source(key_id, secret).pull, secret)
        assert error.key == "options.s3.access_key_id_secret"
        assert f"denied access to bucket {bucket!r}" in str(error)
        assert "does not allow s3:ListBucket and s3:GetObject there (AccessDenied)" in str(error)

    def test_a_key_that_may_list_but_not_read_says_what_its_policy_lacks(
        self, source, s3_auth_server, bucket
    ):
        key_id, secret = s3_auth_server.grant(f"lister-{bucket}", bucket, "s3:ListBucket")
        error = refusal(source(key_id, secret).pull, secret)
        assert error.key == "options.s3.access_key_id_secret"
        assert f"refused access to bucket {bucket!r}" in str(error)
        assert "does not allow s3:ListBucket and s3:GetObject there" in str(error)

    def test_a_key_that_may_read_but_not_archive_is_refused_at_commit_and_the_file_stays(
        self, source, s3_auth_server, bucket
    ):
        actions = ("s3:ListBucket", "s3:GetObject")
        key_id, secret = s3_auth_server.grant(f"reader-{bucket}", bucket, *actions)
        feed = source(key_id, secret, archive_dir="/done")
        snapshot = feed.pull()
        error = refusal(lambda: feed.commit(snapshot), secret)
        assert f"denied access to bucket {bucket!r}" in str(error)
        assert "s3:GetObject, s3:PutObject and s3:DeleteObject" in str(error)
        assert s3_auth_server.keys(bucket, "") == ["in/stock.csv"]
