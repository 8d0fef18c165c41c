-- Sluice schema, version 3: prompt tokens read from the provider's prompt cache.
--
-- Part of prompt_tokens, as the upstream reports them: OpenAI's
-- prompt_tokens_details.cached_tokens (input_tokens_details for the Responses
-- API), Anthropic's cache_read_input_tokens. NULL when the row has no usage.
ALTER TABLE usage ADD COLUMN cached_tokens INTEGER;
