"""What goes wrong with remote feeds says what to fix: unreachable servers, logins, host keys."""
# ruff: noqa: S106 - the *_secret options name credentials; they hold no secret

from __future__ import annotations

import socket
from pathlib import Path

import asyncssh
import pytest
from source_helpers import make_spec, write_file

from inventory_sync.config_sources import check_source_options
from inventory_sync.errors import ConfigError, SourceMisconfigured, SourceUnavailable
from inventory_sync.sources.csv_file import KIND, CsvOptions

FEED = "sku,quantity\nA,1\n"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sftp_source(context, server, *, url=None, **sftp):
    options = {"known_hosts": str(server.root.parent / "known_hosts"), **sftp}
    path = url or server.url("in/*.csv")
    return KIND.build(make_spec(), CsvOptions(path=path, sftp=options), context)


@pytest.fixture
def feed_on_server(sftp_server, known_hosts):
    write_file(sftp_server.root / "in" / "stock.csv", FEED)
    return sftp_server


class TestSftpLogins:
    def test_a_password_from_a_credential_logs_in(self, context, secrets, feed_on_server):
        secrets.values["pw"] = feed_on_server.password
        snapshot = sftp_source(context, feed_on_server, password_secret="pw").pull()
        assert snapshot.row_count == 1

    def test_a_private_key_from_a_credential_logs_in(self, context, secrets, feed_on_server):
        key = asyncssh.generate_private_key("ssh-ed25519")
        feed_on_server.client_keys.append(key)
        secrets.values["key"] = key.export_private_key("openssh").decode()
        snapshot = sftp_source(context, feed_on_server, private_key_secret="key").pull()
        assert snapshot.row_count == 1

    @pytest.mark.parametrize(
        ("algorithm", "form"),
        [
            ("ssh-ed25519", "pkcs8-pem"),  # BEGIN PRIVATE KEY: what openssl genpkey writes
            ("ssh-rsa", "pkcs8-pem"),
            ("ecdsa-sha2-nistp256", "pkcs1-pem"),  # BEGIN EC PRIVATE KEY
        ],
    )
    def test_a_pem_private_key_logs_in(self, context, secrets, feed_on_server, algorithm, form):
        key = asyncssh.generate_private_key(algorithm)
        feed_on_server.client_keys.append(key)
        secrets.values["key"] = key.export_private_key(form).decode()
        snapshot = sftp_source(context, feed_on_server, private_key_secret="key").pull()
        assert snapshot.row_count == 1

    @pytest.mark.parametrize("form", ["openssh", "pkcs8-pem"])
    def test_an_encrypted_private_key_logs_in_with_its_passphrase(
        self, context, secrets, feed_on_server, form
    ):
        key = asyncssh.generate_private_key("ssh-ed25519")
        feed_on_server.client_keys.append(key)
        secrets.values["key"] = key.export_private_key(form, passphrase="pp-4417").decode()
        secrets.values["pp"] = "pp-4417"
        source = sftp_source(
            context, feed_on_server, private_key_secret="key", passphrase_secret="pp"
        )
        assert source.pull().row_count == 1

    @pytest.mark.parametrize("form", ["openssh", "pkcs8-pem"])
    def test_a_wrong_passphrase_is_named_as_the_option_to_fix(
        self, context, secrets, sftp_server, form
    ):
        key = asyncssh.generate_private_key("ssh-ed25519")
        secrets.values["key"] = key.export_private_key(form, passphrase="pp-4417").decode()
        secrets.values["pp"] = "not-it-9"
        with pytest.raises(ConfigError) as raised:
            sftp_source(context, sftp_server, private_key_secret="key", passphrase_secret="pp")
        [problem] = raised.value.problems
        assert problem.key == "options.sftp.passphrase_secret"
        assert "could not be decrypted with the passphrase of credential 'pp'" in problem.message
        assert "not-it-9" not in str(raised.value)

    def test_an_encrypted_key_without_a_passphrase_names_the_option_to_set(
        self, context, secrets, sftp_server
    ):
        key = asyncssh.generate_private_key("ssh-ed25519")
        secrets.values["key"] = key.export_private_key("openssh", passphrase="pp-4417").decode()
        with pytest.raises(ConfigError) as raised:
            sftp_source(context, sftp_server, private_key_secret="key")
        [problem] = raised.value.problems
        assert problem.key == "options.sftp.passphrase_secret"
        assert "the private key is encrypted" in problem.message

    def test_a_wrong_password_names_the_option_to_fix(self, context, secrets, feed_on_server):
        secrets.values["pw"] = "not-the-password-123"
        with pytest.raises(SourceMisconfigured) as raised:
            sftp_source(context, feed_on_server, password_secret="pw").pull()
        assert raised.value.key == "options.sftp.password_secret"
        assert "refused the login of user 'feeds'" in str(raised.value)
        assert "not-the-password-123" not in str(raised.value)

    def test_a_key_the_server_does_not_know_names_the_key_option(
        self, context, secrets, feed_on_server
    ):
        stranger = asyncssh.generate_private_key("ssh-ed25519")
        secrets.values["key"] = stranger.export_private_key("openssh").decode()
        with pytest.raises(SourceMisconfigured) as raised:
            sftp_source(context, feed_on_server, private_key_secret="key").pull()
        assert raised.value.key == "options.sftp.private_key_secret"

    def test_no_credential_and_no_agent_or_keys_names_the_option_to_set(
        self, context, feed_on_server, tmp_path, monkeypatch
    ):
        monkeypatch.setenv("HOME", str(tmp_path / "empty-home"))  # no ~/.ssh keys
        monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)  # no agent
        with pytest.raises(SourceMisconfigured) as raised:
            sftp_source(context, feed_on_server).pull()
        assert raised.value.key == "options.sftp.password_secret"
        assert "no password or key to log in with" in str(raised.value)

    def test_a_private_key_that_cannot_be_read_stops_the_start(self, context, secrets, sftp_server):
        secrets.values["key"] = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n"
        with pytest.raises(ConfigError) as raised:
            sftp_source(context, sftp_server, private_key_secret="key")
        [problem] = raised.value.problems
        assert problem.key == "options.sftp.private_key_secret"
        assert "not a key" not in str(raised.value)

    def test_a_connection_lost_while_reading_is_unavailable(self, context, secrets, feed_on_server):
        secrets.values["pw"] = feed_on_server.password
        feed_on_server.drop_on_read = True
        with pytest.raises(SourceUnavailable) as raised:
            sftp_source(context, feed_on_server, password_secret="pw").pull()
        assert not isinstance(raised.value, SourceMisconfigured)
        assert f"could not read {feed_on_server.url('in/*.csv')}" in str(raised.value)

    def test_an_unreachable_server_is_unavailable_and_named(self, context, secrets, sftp_server):
        secrets.values["pw"] = sftp_server.password
        port = closed_port()
        url = f"sftp://feeds@127.0.0.1:{port}/in/*.csv"
        with pytest.raises(SourceUnavailable) as raised:
            sftp_source(context, sftp_server, url=url, password_secret="pw").pull()
        assert not isinstance(raised.value, SourceMisconfigured)
        assert f"could not connect to 127.0.0.1 port {port}: connection refused" in str(
            raised.value
        )
        assert "[Errno None]" not in str(raised.value)  # paramiko's wrapper, not the reason
        assert raised.value.source == "feed"

    def test_a_host_that_does_not_resolve_says_so(self, context, secrets, sftp_server):
        secrets.values["pw"] = sftp_server.password
        url = "sftp://feeds@no-such-host.invalid/in/*.csv"  # .invalid never resolves (RFC 2606)
        with pytest.raises(SourceUnavailable) as raised:
            sftp_source(context, sftp_server, url=url, password_secret="pw").pull()
        message = str(raised.value)
        assert "could not connect to no-such-host.invalid port 22: " in message
        assert "[Errno" not in message

    def test_a_port_that_is_not_an_ssh_server_says_so(self, context, secrets, sftp_server, server):
        secrets.values["pw"] = sftp_server.password
        port = int(server.base.rsplit(":", 1)[1])  # an HTTP server: it answers, not in SSH
        url = f"sftp://feeds@127.0.0.1:{port}/in/*.csv"
        with pytest.raises(SourceUnavailable) as raised:
            sftp_source(context, sftp_server, url=url, password_secret="pw").pull()
        assert not isinstance(raised.value, SourceMisconfigured)
        assert f"could not connect to 127.0.0.1 port {port}" in str(raised.value)
        assert "not as an SSH server: is it the right port?" in str(raised.value)


class TestHostKeys:
    def test_an_unknown_host_key_is_refused_with_its_fingerprint(
        self, context, secrets, sftp_server, tmp_path
    ):
        (tmp_path / "known_hosts").write_text("")
        secrets.values["pw"] = sftp_server.password
        with pytest.raises(SourceMisconfigured) as raised:
            sftp_source(context, sftp_server, password_secret="pw").pull()
        assert raised.value.key == "options.sftp.host_key"
        assert sftp_server.fingerprint in str(raised.value)
        assert "not in known_hosts" in str(raised.value)

    def test_a_known_hosts_file_that_does_not_exist_is_named_as_the_option_to_fix(
        self, context, secrets, sftp_server, tmp_path
    ):
        secrets.values["pw"] = sftp_server.password
        missing = tmp_path / "no-such-dir" / "known_hosts"
        source = sftp_source(context, sftp_server, password_secret="pw", known_hosts=str(missing))
        with pytest.raises(SourceMisconfigured) as raised:
            source.pull()
        assert raised.value.key == "options.sftp.known_hosts"
        assert f"the known_hosts file {missing} does not exist" in str(raised.value)
        assert sftp_server.fingerprint in str(raised.value)  # to pin it, if that is the fix

    def test_without_known_hosts_files_the_message_says_none_exists(
        self, context, secrets, sftp_server, tmp_path, monkeypatch
    ):
        monkeypatch.setenv("HOME", str(tmp_path / "empty-home"))  # no ~/.ssh/known_hosts
        secrets.values["pw"] = sftp_server.password
        options = {"password_secret": "pw"}
        source = KIND.build(
            make_spec(), CsvOptions(path=sftp_server.url("in/*.csv"), sftp=options), context
        )
        with pytest.raises(SourceMisconfigured) as raised:
            source.pull()
        assert raised.value.key == "options.sftp.host_key"
        assert str(tmp_path / "empty-home" / ".ssh" / "known_hosts") in str(raised.value)
        if not Path("/etc/ssh/ssh_known_hosts").is_file():
            assert "none of which exists" in str(raised.value)

    def test_a_changed_host_key_is_refused(self, context, secrets, sftp_server, tmp_path):
        other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
        (tmp_path / "known_hosts").write_text(f"[127.0.0.1]:{sftp_server.port} {other}")
        secrets.values["pw"] = sftp_server.password
        with pytest.raises(SourceMisconfigured) as raised:
            sftp_source(context, sftp_server, password_secret="pw").pull()
        assert raised.value.key == "options.sftp.known_hosts"
        assert "has another ssh-ed25519 key" in str(raised.value)

    @pytest.mark.parametrize("form", ["fingerprint", "public key"])
    def test_a_pinned_key_needs_no_known_hosts(self, context, secrets, sftp_server, form):
        write_file(sftp_server.root / "in" / "stock.csv", FEED)
        secrets.values["pw"] = sftp_server.password
        pin = sftp_server.fingerprint
        if form == "public key":
            pin = sftp_server.host_key.export_public_key().decode().strip()
        source = sftp_source(
            context, sftp_server, password_secret="pw", host_key=pin, known_hosts="/nonexistent"
        )
        assert source.pull().row_count == 1

    def test_a_wrong_pin_is_refused(self, context, secrets, sftp_server):
        secrets.values["pw"] = sftp_server.password
        wrong = asyncssh.generate_private_key("ssh-ed25519").get_fingerprint("sha256")
        with pytest.raises(SourceMisconfigured) as raised:
            sftp_source(context, sftp_server, password_secret="pw", host_key=wrong).pull()
        assert raised.value.key == "options.sftp.host_key"
        assert "not the pinned" in str(raised.value)


class TestS3Errors:
    def s3_source(self, context, secrets, s3_server, path, endpoint=None):
        secrets.values.update(id=s3_server.access_key_id, secret=s3_server.secret_access_key)
        s3 = {
            "endpoint_url": endpoint or s3_server.endpoint,
            "access_key_id_secret": "id",
            "secret_access_key_secret": "secret",
        }
        return KIND.build(make_spec(), CsvOptions(path=path, s3=s3), context)

    def test_a_missing_bucket_is_named(self, context, secrets, s3_server):
        source = self.s3_source(context, secrets, s3_server, "s3://no-such-bucket/in/*.csv")
        with pytest.raises(SourceMisconfigured) as raised:
            source.pull()
        assert raised.value.key == "options.path"
        assert "bucket 'no-such-bucket' does not exist" in str(raised.value)

    def test_an_unreachable_endpoint_is_unavailable_and_named(self, context, secrets, s3_server):
        endpoint = f"http://127.0.0.1:{closed_port()}"
        source = self.s3_source(context, secrets, s3_server, "s3://feeds/in/*.csv", endpoint)
        with pytest.raises(SourceUnavailable) as raised:
            source.pull()
        assert not isinstance(raised.value, SourceMisconfigured)
        # The socket's reason, not botocore's "Could not connect to the endpoint URL: ...".
        assert f"could not reach {endpoint}: connection refused" in str(raised.value)


class TestLocationsInConfiguration:
    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"path": "sftp://feeds:hunter2-secret@host/in/*.csv"}, "password must not be written"),
            ({"path": "sftp://host/in/*.csv"}, "needs a user name"),
            ({"path": "sftp://feeds@host"}, "needs a file path"),
            ({"path": "ftp://feeds@host/x.csv"}, "unsupported URL scheme 'ftp'"),
            ({"path": "s3://AKIA:hunter2-secret@bucket/x.csv"}, "never in the URL"),
            ({"path": "sftp://feeds@host/in/*.csv", "archive_dir": "done"}, "absolute folder"),
            (
                {"path": "sftp://feeds@host/in/*.csv", "archive_dir": "sftp://feeds@other/d"},
                "same server",
            ),
            ({"path": "/srv/in/*.csv", "sftp": {}}, "path is not a sftp:// URL"),
            ({"path": "s3://b/x.csv", "s3": {"access_key_id_secret": "id"}}, "give both"),
        ],
    )
    def test_a_bad_location_is_a_configuration_problem_that_repeats_no_secret(
        self, options, message
    ):
        problems = check_source_options("csv", options)
        assert any(message in p for p in problems), problems
        assert not any("hunter2-secret" in p for p in problems)

    @pytest.mark.parametrize(
        "pin",
        [
            "h3VX9nAtJIvqNv1QnZ",  # a fingerprint without its SHA256: and cut short
            "MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48",  # an older form
            "ssh-ed25519",  # a key type without the key
            "ssh-ed25519 not-base64!",
        ],
    )
    def test_a_host_key_pin_that_could_never_match_stops_the_start(self, pin):
        # Accepted, it would be reported at every pull as the server's key having changed.
        problems = check_source_options(
            "csv", {"path": "sftp://feeds@host/x.csv", "sftp": {"host_key": pin}}
        )
        [problem] = problems
        assert problem.startswith("options.sftp.host_key: give the server key's SHA256")
        assert "Value error" not in problem  # pydantic's prefix says nothing to a person

    @pytest.mark.parametrize(
        "pin",
        [
            "SHA256:MFub6tUqbYoZZ0arzrrzFRl6Orp1M/4lUQK/mnV/nNk",
            "SHA256:MFub6tUqbYoZZ0arzrrzFRl6Orp1M/4lUQK/mnV/nNk=",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDKosM0+pzjokK6o84pydVwMaY1YVw5KLArAgCqVr5zL",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDKosM0+pzjokK6o84pydVwMaY1YVw5KLArAgCqVr5zL x@y",
        ],
    )
    def test_a_fingerprint_or_a_public_key_is_a_pin(self, pin):
        options = {"path": "sftp://feeds@host/x.csv", "sftp": {"host_key": pin}}
        assert check_source_options("csv", options) == []

    def test_secrets_are_named_never_given(self):
        problems = check_source_options(
            "csv", {"path": "sftp://feeds@host/x.csv", "sftp": {"password": "hunter2-secret"}}
        )
        assert problems == ["options.sftp.password: unknown option (see docs/sources.md)"]

    def test_a_glob_with_a_question_mark_stays_a_glob(self):
        assert CsvOptions(path="sftp://feeds@host/in/stock-?.csv").location.pattern == (
            "/in/stock-?.csv"
        )
