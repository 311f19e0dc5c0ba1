-- What an LLM run cost and whether it came from the cache, so Review can say so for every extraction version.
ALTER TABLE extractions ADD COLUMN usage_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE extractions ADD COLUMN cached INTEGER NOT NULL DEFAULT 0;
