"""docs/deploy.md is checked against the code: its IAM policy blocks are valid JSON, and every AWS operation the
code in services/ calls (found by its boto3 method name, called directly, by name, or through a paginator or waiter)
is allowed by an action in them — so the least-privilege policy cannot silently fall behind the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import botocore.session
from botocore import xform_name

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "deploy.md"
# boto3 client name → IAM service prefix
SERVICES = {"s3": "s3", "dynamodb": "dynamodb", "sqs": "sqs", "bedrock-runtime": "bedrock", "transcribe": "transcribe",
            "comprehendmedical": "comprehendmedical"}
# Operations authorised by other actions (AWS's documented mapping).
ACTIONS = {
    "s3:HeadObject": ["s3:GetObject"],
    "s3:HeadBucket": ["s3:ListBucket"],
    "s3:ListObjectsV2": ["s3:ListBucket"],
    "dynamodb:TransactWriteItems": ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                                    "dynamodb:ConditionCheckItem"],
    "dynamodb:TransactGetItems": ["dynamodb:GetItem"],
    "sqs:SendMessageBatch": ["sqs:SendMessage"],
    "sqs:DeleteMessageBatch": ["sqs:DeleteMessage"],
    "sqs:ChangeMessageVisibilityBatch": ["sqs:ChangeMessageVisibility"],
    "bedrock:Converse": ["bedrock:InvokeModel"],
    "bedrock:ConverseStream": ["bedrock:InvokeModelWithResponseStream"],
}
WAITERS = {"table_exists": "dynamodb:DescribeTable", "table_not_exists": "dynamodb:DescribeTable"}
# Called only by a path the doc names as outside the running app's policy.
DOCUMENTED_EXCEPTIONS = {"dynamodb:Scan": "migrate *from* DynamoDB"}


def policy_actions() -> set[str]:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "docs/deploy.md has no IAM policy"
    actions: set[str] = set()
    for block in blocks:
        policy = json.loads(block)
        assert policy["Version"] == "2012-10-17"
        for statement in policy["Statement"]:
            assert statement["Effect"] == "Allow" and "*" not in statement["Action"]
            actions |= set(statement["Action"])
    return actions


def called_operations() -> set[str]:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "services").rglob("*.py"))
    names = set(re.findall(r"\.([a-z][a-z0-9_]+)\b", source)) | set(re.findall(r"[\"']([a-z][a-z0-9_]+)[\"']", source))
    session = botocore.session.get_session()
    found: set[str] = set()
    for client, prefix in SERVICES.items():
        model = session.get_service_model(client)
        for operation in model.operation_names:
            if xform_name(operation) in names:
                found.add(f"{prefix}:{operation}")
    for waiter in re.findall(r"get_waiter\([\"'](\w+)[\"']\)", source):
        found.add(WAITERS[waiter])
    return found


def test_the_iam_policy_allows_every_aws_call_the_code_makes() -> None:
    allowed = policy_actions()
    calls = called_operations()
    # The scan must see the calls we know are there, or it proves nothing.
    assert {"s3:PutObject", "dynamodb:Query", "sqs:ReceiveMessage", "bedrock:ConverseStream",
            "transcribe:StartTranscriptionJob", "dynamodb:TransactWriteItems"} <= calls
    missing = {}
    for call in sorted(calls):
        needed = ACTIONS.get(call, [call])
        if not set(needed) <= allowed and call not in DOCUMENTED_EXCEPTIONS:
            missing[call] = needed
    assert not missing, f"docs/deploy.md's IAM policy lacks: {missing}"
    doc = DOC.read_text(encoding="utf-8")
    for action, where in DOCUMENTED_EXCEPTIONS.items():
        assert action.split(":")[1] in doc and where in doc


def test_deploy_doc_names_the_settings_and_commands_that_exist() -> None:
    from services.__main__ import main
    from services.config import Settings

    doc = DOC.read_text(encoding="utf-8")
    for var in set(re.findall(r"\bNOTELENS_[A-Z0-9_]+", doc)):
        assert var.removeprefix("NOTELENS_").lower() in Settings.model_fields, var
    for command in set(re.findall(r"python -m services ([a-z-]+)", doc)):
        try:
            main([command, "--help"])
        except SystemExit as exc:
            assert exc.code == 0, command
