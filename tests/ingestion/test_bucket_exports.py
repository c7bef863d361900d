"""Inbox and CRM exports read from an S3 bucket: a real S3-compatible server (moto's server mode)
on 127.0.0.1 holds the export files of ``tests/fixtures/exports``; the sources read them through
``s3://`` bucket URLs with credentials and endpoint from dlt's environment settings.

The server checks request signatures (moto's IAM authentication is switched on once its one
user and access key exist), so a wrong secret key is refused as it would be by S3 itself.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import requests
from dlt.common.configuration.specs import AwsCredentials
from dlt.pipeline.exceptions import PipelineStepFailed
from moto.server import ThreadedMotoServer

from ingestion import pipelines
from ingestion.sources.files import BucketAccessError
from tests.conftest import query
from tests.ingestion.test_file_exports import FIXTURES, HEADER, records_in

REGION = "eu-central-1"


@dataclass(frozen=True)
class S3Server:
    """A running S3-compatible server and the one access key it accepts."""

    endpoint_url: str
    access_key_id: str
    secret_access_key: str

    def client(self):
        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name=REGION,
                            aws_access_key_id=self.access_key_id,
                            aws_secret_access_key=self.secret_access_key)


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # Until authentication is switched on any key is accepted: create the user and its key.
    iam = boto3.client("iam", endpoint_url=endpoint, region_name=REGION,
                       aws_access_key_id="setup", aws_secret_access_key="setup")
    iam.create_user(UserName="rapport")
    iam.put_user_policy(UserName="rapport", PolicyName="exports", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="rapport")["AccessKey"]
    requests.post(f"{endpoint}/moto-api/reset-auth", data=b"0", timeout=10).raise_for_status()
    try:
        yield S3Server(endpoint, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        requests.post(f"{endpoint}/moto-api/reset-auth", data=b"inf", timeout=10)
        requests.post(f"{endpoint}/moto-api/reset", timeout=10)
        server.stop()


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    """A new bucket holding the inbox exports under ``inbox/`` and the CRM ones under ``crm/``."""
    name = f"drops-{uuid.uuid4().hex[:12]}"
    client = s3_server.client()
    client.create_bucket(Bucket=name,
                         CreateBucketConfiguration={"LocationConstraint": REGION})
    for prefix in ("inbox", "crm"):
        for path in (FIXTURES / prefix).iterdir():
            client.upload_file(str(path), name, f"{prefix}/{path.name}")
    return name


def configure(monkeypatch: pytest.MonkeyPatch, source: str, bucket_url: str, server: S3Server,
              secret: str | None = None) -> None:
    """Point ``source`` at ``bucket_url`` the way an operator would: dlt environment settings."""
    prefix = f"SOURCES__{source.upper()}__"
    monkeypatch.setenv(prefix + "BUCKET_URL", bucket_url)
    monkeypatch.setenv(prefix + "CREDENTIALS__AWS_ACCESS_KEY_ID", server.access_key_id)
    monkeypatch.setenv(prefix + "CREDENTIALS__AWS_SECRET_ACCESS_KEY",
                       secret or server.secret_access_key)
    monkeypatch.setenv(prefix + "CREDENTIALS__ENDPOINT_URL", server.endpoint_url)
    monkeypatch.setenv(prefix + "CREDENTIALS__REGION_NAME", REGION)


def count(warehouse: Path, table: str) -> int:
    return query(warehouse, f"select count(*) from {table}")[0][0]


def test_every_row_of_bucket_exports_is_loaded_or_quarantined(
        s3_server: S3Server, bucket: str, isolated_env: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    configure(monkeypatch, "inbox", f"s3://{bucket}/inbox", s3_server)
    configure(monkeypatch, "crm", f"s3://{bucket}/crm", s3_server)
    pipelines.run("inbox")
    pipelines.run("crm")

    inbox = {t: count(isolated_env, f"raw_inbox.{t}")
             for t in ("inbox_messages", "inbox_messages_quarantine")}
    crm = {t: count(isolated_env, f"raw_crm.{t}")
           for t in ("contacts", "contacts_quarantine", "lifecycle_stages",
                     "lifecycle_stages_quarantine", "conversions", "conversions_quarantine")}
    assert all(inbox.values()) and all(crm.values())
    assert sum(inbox.values()) == records_in(FIXTURES / "inbox")
    assert sum(crm.values()) == records_in(FIXTURES / "crm")
    # File names are relative to the bucket prefix, as for a local folder.
    files = query(isolated_env, "select distinct _source_file from raw_inbox.inbox_messages "
                                "union select distinct source_file "
                                "from raw_inbox.inbox_messages_quarantine")
    assert {f for (f,) in files} == {p.name for p in (FIXTURES / "inbox").iterdir()}


def test_next_night_reads_only_new_files_of_the_bucket_prefix(
        s3_server: S3Server, bucket: str, isolated_env: Path,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    configure(monkeypatch, "inbox", f"s3://{bucket}/inbox", s3_server)
    pipelines.run("inbox")
    before = count(isolated_env, "raw_inbox.inbox_messages")
    quarantined = count(isolated_env, "raw_inbox.inbox_messages_quarantine")

    new = tmp_path / "inbox_export_2026-09-03.csv"
    new.write_text("\n".join([
        HEADER,
        "9003,mastodon,444,support,agent_04,,Answered,closed,2026-09-01T14:00:00Z,"
        "2026-09-03T08:00:00Z",
        "9004,mastodon,444,support,,,,open,2026-09-03T09:00:00Z,",
    ]) + "\n", encoding="utf-8")
    client = s3_server.client()
    client.upload_file(str(new), bucket, f"inbox/{new.name}")
    # Beside the prefix, not in it: never read as an inbox export.
    client.upload_file(str(new), bucket, f"inbox-archive/{new.name}")
    pipelines.run("inbox")

    latest = "(select max(_dlt_load_id) from raw_inbox.inbox_messages)"
    assert query(isolated_env, "select message_id, _source_file from raw_inbox.inbox_messages "
                               f"where _dlt_load_id = {latest} order by message_id") == [
        ("9003", new.name), ("9004", new.name)]
    assert count(isolated_env, "raw_inbox.inbox_messages") == before + 1  # 9003 was redelivered
    assert count(isolated_env, "raw_inbox.inbox_messages_quarantine") == quarantined

    pipelines.run("inbox")  # a night without new files
    assert query(isolated_env, f"select count(*) from raw_inbox.inbox_messages "
                               f"where _dlt_load_id > {latest}") == [(0,)]


def test_wrong_secret_key_fails_naming_source_and_bucket_never_the_key(
        s3_server: S3Server, bucket: str, isolated_env: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    wrong = s3_server.secret_access_key[::-1]
    assert wrong != s3_server.secret_access_key
    configure(monkeypatch, "inbox", f"s3://{bucket}/inbox", s3_server, secret=wrong)
    monkeypatch.setenv("RUNTIME__LOG_LEVEL", "DEBUG")
    caplog.set_level(logging.DEBUG)

    with pytest.raises(PipelineStepFailed) as failed:
        pipelines.run("inbox")

    message = str(failed.value)
    assert f"source 'inbox' could not list '*' in bucket s3://{bucket}/inbox" in message
    assert "signature" in message.lower()
    out, err = capfd.readouterr()
    logged = caplog.text + out + err
    assert "botocore" in caplog.text  # DEBUG logging was on while the request was refused
    for secret in (wrong, s3_server.secret_access_key):
        assert secret not in message and secret not in logged
        assert secret not in repr(failed.value) and secret not in str(failed.value.__cause__)
    assert s3_server.access_key_id not in message

    # Nothing landed and no cursor moved: with the right key every file is read.
    monkeypatch.setenv("SOURCES__INBOX__CREDENTIALS__AWS_SECRET_ACCESS_KEY",
                       s3_server.secret_access_key)
    pipelines.run("inbox")
    assert count(isolated_env, "raw_inbox.inbox_messages") + count(
        isolated_env, "raw_inbox.inbox_messages_quarantine") == records_in(FIXTURES / "inbox")


def test_each_crm_export_table_keeps_its_own_file_cursor(
        isolated_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder = tmp_path / "crm"
    shutil.copytree(FIXTURES / "crm", folder)
    os.utime(folder / "contacts.csv", (1_900_000_000, 1_900_000_000))
    os.utime(folder / "lifecycle_stages.jsonl", (1_900_000_100, 1_900_000_100))
    monkeypatch.setenv("SOURCES__CRM__BUCKET_URL", folder.as_uri())
    pipelines.run("crm")
    # A contacts export newer than the last contacts file but older than the newest
    # lifecycle file: the contacts cursor alone decides that it is new.
    late = folder / "contacts_2026-09-03.csv"
    late.write_text("contact_id,x_user_id,created_at,updated_at\n"
                    "c_9,99,2026-09-01T10:00:00Z,2026-09-03T10:00:00Z\n", encoding="utf-8")
    os.utime(late, (1_900_000_050, 1_900_000_050))
    pipelines.run("crm")
    assert query(isolated_env, "select _source_file from raw_crm.contacts "
                               "where contact_id = 'c_9'") == [(late.name,)]


def test_bucket_error_never_shows_a_credential_even_when_its_cause_does() -> None:
    credentials = AwsCredentials()
    credentials.aws_access_key_id = "AKIAEXAMPLEKEYID"
    credentials.aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    cause = PermissionError("denied for AKIAEXAMPLEKEYID with "
                            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    error = BucketAccessError("crm", "s3://user:pa55word@exports/crm", "list '*'", cause,
                              credentials)
    assert str(error).startswith("source 'crm' could not list '*' in bucket s3://exports/crm: "
                                 "PermissionError: denied for *** with ***")
    for secret in ("AKIAEXAMPLEKEYID", "wJalrXUtnFEMI", "pa55word", "user:"):
        assert secret not in str(error)


def test_bucket_objects_are_new_by_etag_not_by_upload_time(
        s3_server: S3Server, bucket: str, isolated_env: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An object uploaded again unchanged (new LastModified, same ETag) is not read again; one
    uploaded again with the same size and new content is, and its rows replace the old ones."""
    configure(monkeypatch, "inbox", f"s3://{bucket}/inbox", s3_server)
    client = s3_server.client()
    row = "e_1,x,111,support,{},,,open,2026-09-05T09:00:00Z,"
    key = "inbox/inbox_export_2026-09-05.csv"
    client.put_object(Bucket=bucket, Key=key, Body=f"{HEADER}\n{row.format('aa')}\n".encode())
    pipelines.run("inbox")
    loads = "(select max(load_id) from raw_inbox._dlt_loads)"
    first = query(isolated_env, f"select {loads}")[0][0]

    for path in (FIXTURES / "inbox").iterdir():  # every object uploaded again, unchanged
        client.upload_file(str(path), bucket, f"inbox/{path.name}")
    client.put_object(Bucket=bucket, Key=key, Body=f"{HEADER}\n{row.format('aa')}\n".encode())
    pipelines.run("inbox")
    assert query(isolated_env, "select count(*) from raw_inbox.inbox_messages "
                               f"where _dlt_load_id > '{first}'") == [(0,)]

    client.put_object(Bucket=bucket, Key=key, Body=f"{HEADER}\n{row.format('bb')}\n".encode())
    pipelines.run("inbox")
    assert query(isolated_env, "select message_id, assignee, _source_file from "
                               f"raw_inbox.inbox_messages where _dlt_load_id = {loads}") == [
        ("e_1", "bb", "inbox_export_2026-09-05.csv")]
