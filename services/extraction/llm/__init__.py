"""LLM extraction engines (Claude on Amazon Bedrock): versioned prompt files, a tool schema derived from the one
entity schema, PHI masked before anything leaves the machine, and every mention grounded in the source."""
