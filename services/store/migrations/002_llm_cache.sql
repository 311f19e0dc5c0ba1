-- LLM results by (note text, prompt version, model, inference parameters): the same prompt on the same note
-- makes no second call. Values are the grounded ExtractionResult JSON and the call's usage.
CREATE TABLE llm_cache (
    key          TEXT PRIMARY KEY,
    engine       TEXT NOT NULL,
    model_id     TEXT NOT NULL,
    prompt_ref   TEXT NOT NULL,
    result_json  TEXT NOT NULL,
    usage_json   TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
