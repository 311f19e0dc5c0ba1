"""`python -m services batch IN OUT --engine claude --prompt NAME@VERSION --model ID` end to end against a loopback
Bedrock endpoint: the chosen model is called, the prompt version is recorded, the output is in the batch layout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.__main__ import main
from tests.bedrock_stream import router
from tests.loopback import LoopbackServer


def test_batch_with_claude_uses_the_chosen_prompt_version_and_model(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    server = LoopbackServer()
    server.route = router({"entities": [{"category": "symptom", "text": "기침"}], "fields": {}})
    for k, v in {"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": server.url, "AWS_DEFAULT_REGION": "ap-northeast-2",
                 "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                 "NOTELENS_DATA_DIR": str(tmp_path / "data")}.items():
        monkeypatch.setenv(k, v)
    # The command sets these for its worker processes; set here first so they are restored after the test.
    monkeypatch.setenv("NOTELENS_CLAUDE_PROMPT", "extraction")
    monkeypatch.setenv("NOTELENS_CLAUDE_MODEL_ID", "global.anthropic.claude-sonnet-4-5-20250929-v1:0")
    notes = tmp_path / "in"
    notes.mkdir()
    (notes / "a.txt").write_text("환자 박지훈 3일 전부터 기침.", encoding="utf-8")
    try:
        code = main(["batch", str(notes), str(tmp_path / "out"), "--engine", "claude", "--prompt", "extraction@v1",
                     "--model", "apac.anthropic.claude-sonnet-4-5-20250929-v1:0", "--quiet"])
    finally:
        server.close()
    assert code == 0
    assert len(server.requests) == 1
    assert "/model/apac.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse" in server.requests[0]["path"]
    assert "박지훈" not in json.dumps(server.requests[0]["body"], ensure_ascii=False)
    out = json.loads((tmp_path / "out" / "a.txt.out").read_text(encoding="utf-8"))
    assert out["prompt_version"] == "extraction@v1"
    assert [e["text"] for e in out["entities"] if e["category"] == "symptom"] == ["기침"]
