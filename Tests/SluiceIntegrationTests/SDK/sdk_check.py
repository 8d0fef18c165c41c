#!/usr/bin/env python3
"""Drives a running Sluice daemon with the official `openai` and `anthropic`
Python SDKs, so their own parsers judge what the daemon sends.

    sdk_check.py --base-url http://127.0.0.1:PORT/v1 SCENARIO [--keys-base-url ...]

The OpenAI SDK takes the `/v1` base URL; the Anthropic SDK appends
`/v1/messages` itself, so it gets the same URL without `/v1`.

Prints one JSON line of results on stdout and exits 0; any error (an SDK
exception, a failed check) goes to stderr with a non-zero exit. Checks that
compare two answers are reported as values, not asserted here, so the Swift
test (SDKCompatibilityTests) can say what differed.
"""

import argparse
import json
import sys
import traceback

import anthropic
import openai
from openai.lib.streaming.chat import ChatCompletionStreamState

CHAT_MODEL = "openai/gpt-4o-mini"
TOOLS_MODEL = "fake/tools"  # the fake gateway's two-choice, tool-call, logprobs answer
CLAUDE_MODEL = "anthropic/claude-sonnet-4"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def openai_client(base_url, api_key="sk-test"):
    return openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=20)


def anthropic_base(base_url):
    return base_url[: -len("/v1")] if base_url.rstrip("/").endswith("/v1") else base_url


def anthropic_client(base_url, api_key="sk-ant-test"):
    return anthropic.Anthropic(base_url=anthropic_base(base_url), api_key=api_key, max_retries=0, timeout=20)


def user(text, system=None):
    messages = [{"role": "system", "content": system}] if system else []
    return messages + [{"role": "user", "content": text}]


def dump(model):
    return None if model is None else model.model_dump(mode="json", exclude_none=True)


def normalize(completion):
    """What an application reads from a ChatCompletion, choices by index."""
    choices = []
    for choice in sorted(completion.choices, key=lambda c: c.index):
        message = choice.message
        logprobs = None
        if choice.logprobs is not None and choice.logprobs.content is not None:
            logprobs = [[entry.token, entry.logprob] for entry in choice.logprobs.content]
        choices.append({
            "index": choice.index,
            "role": message.role,
            "content": message.content,
            "refusal": message.refusal,
            "tool_calls": [
                {"id": call.id, "type": call.type, "name": call.function.name, "arguments": call.function.arguments}
                for call in (message.tool_calls or [])
            ],
            "finish_reason": choice.finish_reason,
            "logprobs": logprobs,
        })
    return {
        "id": completion.id,
        "model": completion.model,
        "created": completion.created,
        "choices": choices,
        "usage": dump(completion.usage),
    }


def read_chunks(stream):
    """Iterates a chat stream: its chunks' facts and the SDK's accumulated completion."""
    state = ChatCompletionStreamState()
    content, finish_reasons, usages, choice_counts = "", [], [], []
    for chunk in stream:
        if chunk.object != "chat.completion.chunk":
            raise AssertionError(f"chunk object is {chunk.object!r}")
        state.handle_chunk(chunk)
        choice_counts.append(len(chunk.choices))
        usages.append(dump(chunk.usage))
        for choice in chunk.choices:
            if choice.index == 0 and choice.delta.content:
                content += choice.delta.content
            if choice.finish_reason is not None:
                finish_reasons.append(choice.finish_reason)
    return {
        "content": content,
        "finish_reasons": finish_reasons,
        "chunk_count": len(choice_counts),
        "last_chunk_usage": usages[-1] if usages else None,
        "last_chunk_choice_count": choice_counts[-1] if choice_counts else None,
        "usage_chunks": sum(1 for usage in usages if usage is not None),
        "completion": normalize(state.get_final_completion()),
    }


def raw_create(resource, **params):
    """`with_raw_response.create`: the x-sluice-cache header and the parsed object."""
    raw = resource.with_raw_response.create(**params)
    return raw.headers.get("x-sluice-cache"), raw.parse()


def helper_stream(client, **params):
    """`client.chat.completions.stream(...)`: the header and `.get_final_completion()`."""
    with client.chat.completions.stream(**params) as stream:
        header = stream._response.headers.get("x-sluice-cache")  # the stream keeps no public response
        for _ in stream:
            pass
        return header, normalize(stream.get_final_completion())


# MARK: scenarios

def chat_both_shapes(args):
    client = openai_client(args.base_url)
    messages = user("both shapes")
    plain_cache, plain = raw_create(client.chat.completions, model=CHAT_MODEL, messages=messages)
    stream_cache, stream = raw_create(client.chat.completions, model=CHAT_MODEL, messages=messages,
                                      stream=True, stream_options={"include_usage": True})
    streamed = read_chunks(stream)
    helper_cache, helper = helper_stream(client, model=CHAT_MODEL, messages=messages,
                                         stream_options={"include_usage": True})
    bare_cache, bare_stream = raw_create(client.chat.completions, model=CHAT_MODEL, messages=messages, stream=True)
    bare = read_chunks(bare_stream)
    plain_choice = plain.choices[0]
    return {
        "cache": [plain_cache, stream_cache, helper_cache, bare_cache],
        "plain": normalize(plain),
        "streamed": streamed,
        "helper": helper,
        "bare": bare,
        "content_equal": streamed["content"] == plain_choice.message.content,
        "finish_reason_equal": streamed["finish_reasons"] == [plain_choice.finish_reason],
        "usage_equal": streamed["last_chunk_usage"] == dump(plain.usage),
    }


def chat_stream_first(args):
    client = openai_client(args.base_url)
    messages = user("stream first")
    stream_cache, stream = raw_create(client.chat.completions, model=CHAT_MODEL, messages=messages,
                                      stream=True, stream_options={"include_usage": True})
    streamed = read_chunks(stream)
    plain_cache, plain = raw_create(client.chat.completions, model=CHAT_MODEL, messages=messages)
    return {
        "cache": [stream_cache, plain_cache],
        "streamed": streamed,
        "plain": normalize(plain),
        "plain_object": plain.object,
    }


def chat_tools(args):
    """Two choices, a tool call, logprobs: both directions through the cache.

    The four requests differ only in their system message, so the fake gateway
    echoes the same text into each and all four answers should read the same."""
    client = openai_client(args.base_url)
    params = dict(model=TOOLS_MODEL, n=2, tools=[WEATHER_TOOL], logprobs=True)
    plain_first = user("weather in Paris?", system="plain first")
    stream_first = user("weather in Paris?", system="stream first")

    # A plain answer, replayed as a stream.
    a_plain_cache, a_plain = raw_create(client.chat.completions, messages=plain_first, **params)
    a_helper_cache, a_helper = helper_stream(client, messages=plain_first,
                                             stream_options={"include_usage": True}, **params)
    a_raw_cache, a_raw_stream = raw_create(client.chat.completions, messages=plain_first, stream=True,
                                           stream_options={"include_usage": True}, **params)
    a_raw = read_chunks(a_raw_stream)

    # A streamed answer, assembled into a plain one.
    b_stream_cache, b_stream = raw_create(client.chat.completions, messages=stream_first, stream=True,
                                          stream_options={"include_usage": True}, **params)
    b_streamed = read_chunks(b_stream)
    b_plain_cache, b_plain = raw_create(client.chat.completions, messages=stream_first, **params)

    return {
        "cache": [a_plain_cache, a_helper_cache, a_raw_cache, b_stream_cache, b_plain_cache],
        "plain_then_stream": {"plain": normalize(a_plain), "helper": a_helper, "raw": a_raw["completion"]},
        "stream_then_plain": {"streamed": b_streamed["completion"], "plain": normalize(b_plain),
                              "plain_object": b_plain.object},
    }


def responses_stream(args):
    client = openai_client(args.base_url)
    runs = []
    for _ in range(2):
        cache, stream = raw_create(client.responses, model=CHAT_MODEL, input="hi", stream=True)
        types, deltas, final_text, final_status = [], "", None, None
        for event in stream:
            types.append(event.type)
            if event.type == "response.output_text.delta":
                deltas += event.delta
            elif event.type == "response.completed":
                final_text = event.response.output_text
                final_status = event.response.status
        runs.append({"cache": cache, "types": types, "text": deltas, "final_text": final_text, "status": final_status})
    return {"runs": runs}


def anthropic_messages(args):
    client = anthropic_client(args.base_url)
    plain = []
    for _ in range(2):
        raw = client.messages.with_raw_response.create(
            model=CLAUDE_MODEL, max_tokens=64, messages=[{"role": "user", "content": "hello claude"}])
        message = raw.parse()
        plain.append({
            "cache": raw.headers.get("x-sluice-cache"),
            "type": message.type,
            "text": "".join(block.text for block in message.content if block.type == "text"),
            "stop_reason": message.stop_reason,
            "usage": [message.usage.input_tokens, message.usage.output_tokens],
        })

    streamed = []
    stream_params = dict(model=CLAUDE_MODEL, max_tokens=64, messages=[{"role": "user", "content": "stream claude"}])
    with client.messages.stream(**stream_params) as stream:
        header = stream.response.headers.get("x-sluice-cache")
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    streamed.append({"via": "messages.stream", "cache": header, "text": text,
                     "final_text": final.content[0].text, "stop_reason": final.stop_reason,
                     "usage": [final.usage.input_tokens, final.usage.output_tokens]})

    raw = client.messages.with_raw_response.create(stream=True, **stream_params)
    types, text, stop_reason, output_tokens = [], "", None, None
    for event in raw.parse():
        types.append(event.type)
        if event.type == "content_block_delta" and event.delta.type == "text_delta":
            text += event.delta.text
        elif event.type == "message_delta":
            stop_reason, output_tokens = event.delta.stop_reason, event.usage.output_tokens
    streamed.append({"via": "create(stream=True)", "cache": raw.headers.get("x-sluice-cache"), "text": text,
                     "final_text": text, "stop_reason": stop_reason, "types": types, "output_tokens": output_tokens})
    return {"plain": plain, "streamed": streamed}


def error_facts(call):
    try:
        call()
    except (openai.APIStatusError, anthropic.APIStatusError) as error:
        body = error.body if isinstance(error.body, dict) else {}
        body = body.get("error", body) if isinstance(body, dict) else {}
        return {
            "class": type(error).__name__,
            "status": error.status_code,
            "code": getattr(error, "code", None) or body.get("code"),
            "type": getattr(error, "type", None) or body.get("type"),
            "retry_after": error.response.headers.get("retry-after"),
            "should_retry": error.response.headers.get("x-should-retry"),
        }
    return {"class": None}


def errors(args):
    """The --base-url daemon allows a burst of one request (requests_per_minute 6)."""
    client = openai_client(args.base_url)
    result = {
        # An estimate no bucket can ever hold: refused at once, spends nothing.
        "impossible": error_facts(lambda: client.chat.completions.create(
            model=CHAT_MODEL, messages=user("too big"), max_tokens=10**19)),
        "first": client.chat.completions.create(model=CHAT_MODEL, messages=user("first")).choices[0].message.content,
        # The request bucket is now empty.
        "rate_limit": error_facts(lambda: client.chat.completions.create(model=CHAT_MODEL, messages=user("second"))),
    }
    if args.keys_base_url:
        known, unknown = args.known_key, "sk-not-listed"
        result["openai_unknown_key"] = error_facts(lambda: openai_client(args.keys_base_url, unknown)
                                                   .chat.completions.create(model=CHAT_MODEL, messages=user("who")))
        result["openai_known_key"] = openai_client(args.keys_base_url, known).chat.completions.create(
            model=CHAT_MODEL, messages=user("who")).choices[0].message.content
        # The Anthropic SDK sends its key as `x-api-key`.
        claude = dict(model=CLAUDE_MODEL, max_tokens=16, messages=[{"role": "user", "content": "who"}])
        result["anthropic_unknown_key"] = error_facts(lambda: anthropic_client(args.keys_base_url, unknown)
                                                      .messages.create(**claude))
        result["anthropic_known_key"] = anthropic_client(args.keys_base_url, known).messages.create(
            **claude).content[0].text
    return result


SCENARIOS = {
    "chat-both-shapes": chat_both_shapes,
    "chat-stream-first": chat_stream_first,
    "chat-tools": chat_tools,
    "responses-stream": responses_stream,
    "anthropic-messages": anthropic_messages,
    "errors": errors,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="the daemon's OpenAI base URL, http://127.0.0.1:PORT/v1")
    parser.add_argument("--keys-base-url", help="errors: a daemon in keys mode")
    parser.add_argument("--known-key", default="sk-local-web-example", help="errors: a key that daemon lists")
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    args = parser.parse_args()
    try:
        result = SCENARIOS[args.scenario](args)
    except Exception:  # noqa: BLE001 - any failure is the scenario's result
        traceback.print_exc()
        return 1
    result["versions"] = {"openai": openai.__version__, "anthropic": anthropic.__version__}
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
