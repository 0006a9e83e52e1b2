#!/usr/bin/env node
// A stand-in for the Anthropic Messages API, so the real `claude` CLI can run offline in tests.
//
//   node fake-anthropic.mjs --port 0        # prints "listening on http://127.0.0.1:PORT"
//   ANTHROPIC_BASE_URL=http://127.0.0.1:PORT claude ...
//
// POST /v1/messages is answered with a streamed (server-sent events) reply:
//   - if the last user message carries a tool_result (and no newly typed prompt): the text "Done."
//     (stop_reason end_turn);
//   - else, if the request offers tools (the main conversation): one Bash tool_use whose command
//     is $FAKE_BASH_COMMAND (default `touch created-by-agent`), stop_reason tool_use;
//   - else (title generation and other side requests): a short text.
// Every request is appended as one JSON line to the file $FAKE_LOG, when set (for messages: the
// model, whether tools were offered, and a summary of the last user message).
import { createServer } from 'node:http';
import { appendFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const portArg = argv.indexOf('--port');
const PORT = portArg >= 0 ? Number(argv[portArg + 1]) : 0;
const COMMAND = process.env.FAKE_BASH_COMMAND || 'touch created-by-agent';
const LOG = process.env.FAKE_LOG;

let counter = 0;
const newId = (prefix) => `${prefix}_fake${Date.now().toString(36)}${(++counter).toString(36)}`;

function log(entry) {
  if (LOG) appendFileSync(LOG, JSON.stringify({ time: new Date().toISOString(), ...entry }) + '\n');
}

/** A message's content as a list of blocks (the API also accepts a bare string). */
const blocks = (message) =>
  typeof message?.content === 'string' ? [{ type: 'text', text: message.content }] : message?.content ?? [];

/** A short description of a message, for the log: its role and its blocks, texts clipped. */
function summarize(message) {
  if (!message) return null;
  return {
    role: message.role,
    blocks: blocks(message).map((b) =>
      b.type === 'text' ? { type: 'text', text: b.text.slice(0, 200) }
      : b.type === 'tool_result' ? { type: 'tool_result', tool_use_id: b.tool_use_id, is_error: !!b.is_error }
      : { type: b.type }),
  };
}

/** The last message with role "user" (claude may put a "system" message after it). */
const lastUser = (body) => body.messages?.findLast((m) => m.role === 'user');

/**
 * Whether the request answers our tool_use: its last user message holds a tool_result that no typed
 * prompt follows. (After a refused tool, claude sends the refusal's tool_result and the user's next
 * prompt in one message; texts it adds itself start with "<system-reminder>" or "[Request ...".)
 */
function answersTool(body) {
  const list = blocks(lastUser(body));
  const at = list.findLastIndex((b) => b.type === 'tool_result');
  return at >= 0 && !list.slice(at + 1).some((b) => b.type === 'text' && !/^\s*[<[]/.test(b.text));
}

/** The content blocks and stop reason of the reply to a request body. */
function reply(body) {
  if (answersTool(body)) {
    return { content: [{ type: 'text', text: 'Done.' }], stop_reason: 'end_turn' };
  }
  if (Array.isArray(body.tools) && body.tools.length > 0) {
    const input = { command: COMMAND, description: 'Create a file' };
    return { content: [{ type: 'tool_use', id: newId('toolu'), name: 'Bash', input }], stop_reason: 'tool_use' };
  }
  return { content: [{ type: 'text', text: 'Fake reply' }], stop_reason: 'end_turn' };
}

/** Writes one server-sent event. */
function send(res, type, data) {
  res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
}

/** Streams a reply the way the real API does: message_start, one start/delta/stop per block, message_delta, message_stop. */
function stream(res, model, { content, stop_reason }) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  send(res, 'message_start', {
    message: {
      id: newId('msg'), type: 'message', role: 'assistant', model, content: [],
      stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 1 },
    },
  });
  content.forEach((block, index) => {
    if (block.type === 'text') {
      send(res, 'content_block_start', { index, content_block: { type: 'text', text: '' } });
      send(res, 'content_block_delta', { index, delta: { type: 'text_delta', text: block.text } });
    } else {
      const { input, ...head } = block;
      send(res, 'content_block_start', { index, content_block: { ...head, input: {} } });
      send(res, 'content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(input) } });
    }
    send(res, 'content_block_stop', { index });
  });
  send(res, 'message_delta', { delta: { stop_reason, stop_sequence: null }, usage: { output_tokens: 10 } });
  send(res, 'message_stop', {});
  res.end();
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const path = req.url.split('?')[0];
    if (req.method === 'POST' && path === '/v1/messages') {
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
      } catch {
        log({ method: req.method, path, error: 'invalid JSON' });
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'invalid JSON' } }));
        return;
      }
      const hasTools = Array.isArray(body.tools) && body.tools.length > 0;
      log({ method: req.method, path, model: body.model, tools: hasTools, stream: !!body.stream, lastUser: summarize(lastUser(body)) });
      stream(res, body.model ?? 'claude-fake', reply(body));
      return;
    }
    log({ method: req.method, path: req.url });
    if (req.method === 'GET' || req.method === 'HEAD') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.method === 'GET' ? '{}' : undefined);
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: `no route ${req.method} ${path}` } }));
    }
  });
});

server.listen(PORT, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
