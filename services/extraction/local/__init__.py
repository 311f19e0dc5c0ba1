"""Local Korean clinical rule engine: offline, the embedded default."""
