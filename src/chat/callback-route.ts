import { Hono } from 'hono';
import type { Deps } from '../deps';
import { apiError } from '../http/errors';
import { acceptChatMessage } from './inbound';
import { parseRobotPayload } from './message';
import { verifySignature } from './sign';

/** Names the job a command started, on the callback's answer. */
export const JOB_HEADER = 'x-chatops-job-id';

/** DingTalk waits a few seconds for the callback's answer; we answer well within that. */
export const CALLBACK_ANSWER_MS = 1500;

/**
 * POST /dingtalk/callback: DingTalk's HTTP-mode robot callback. The timestamp/sign headers are
 * checked before anything else; the message is recorded before we answer 200, and the answer goes
 * out within CALLBACK_ANSWER_MS whatever the command does — replies follow on the sessionWebhook.
 */
export function callbackRoutes(deps: Deps): Hono {
  const app = new Hono();
  app.post('/dingtalk/callback', async (c) => {
    const headers = { timestamp: c.req.header('timestamp'), sign: c.req.header('sign') };
    if (!verifySignature(deps.callbackSecret, headers, deps.now())) {
      return apiError(c, deps, 401, 'unauthorized', deps.t('http.badSign'));
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return apiError(c, deps, 400, 'bad_args', deps.t('http.notJson', { example: '{"msgtype":"text",…}' }));
    }
    const parsed = parseRobotPayload(body, 'http', {
      robotCode: deps.config.robotCode,
      nowMs: deps.now(),
    });
    if (!parsed.ok) return apiError(c, deps, 400, 'bad_args', deps.t('http.badCallback', { problem: parsed.error }), parsed.field);
    // A failure to record is a 500: DingTalk retries, and nothing was half-done.
    const accepted = await acceptChatMessage(deps, parsed.message);
    if (accepted.duplicate) return c.json({ duplicate: true });
    let timer: NodeJS.Timeout | undefined;
    // Answered once the command has run (the local client reads the job it started from the
    // answer); its outcome is stored and its replies sent after that, as DingTalk needs nothing more.
    const finished = await Promise.race([
      accepted.dispatched.then(
        (r) => r,
        () => null,
      ),
      new Promise<false>((r) => {
        timer = setTimeout(() => r(false), CALLBACK_ANSWER_MS);
      }),
    ]);
    clearTimeout(timer);
    if (finished === false) return c.json({ pending: true });
    // A header DingTalk ignores; the local client (tools/chat-cli.ts) follows the job it names.
    if (finished?.jobId) c.header(JOB_HEADER, String(finished.jobId));
    return c.json({});
  });
  return app;
}
