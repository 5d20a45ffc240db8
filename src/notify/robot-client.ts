import { errorMessage } from '../errors';
import { classifyRobotAnswer, type RobotVerdict, robotSendUrl } from './robot';
import type { RobotCredentials } from './targets';

/** What one POST to a custom robot came to: DingTalk's verdict, or why there was none. */
export type RobotPostResult = RobotVerdict | { kind: 'unreachable'; message: string } | { kind: 'http'; status: number; message: string };

/**
 * POST one message to a custom robot: signed when it has a secret, `errcode` checked (DingTalk
 * answers errors with HTTP 200). "Could not reach it" and "it said no" stay apart.
 */
export async function postToRobot(
  io: { fetch: typeof fetch; oapiBase: string; now: () => number; signal?: AbortSignal; timeoutMs: number },
  creds: RobotCredentials,
  body: Record<string, unknown>,
): Promise<RobotPostResult> {
  let res: Response;
  try {
    const timeout = AbortSignal.timeout(io.timeoutMs);
    res = await io.fetch(robotSendUrl(io.oapiBase, creds, io.now()), {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(body),
      signal: io.signal ? AbortSignal.any([io.signal, timeout]) : timeout,
    });
  } catch (err) {
    return { kind: 'unreachable', message: `could not reach the robot endpoint: ${errorMessage(err)}` };
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) return { kind: 'http', status: res.status, message: `robot endpoint answered HTTP ${res.status}: ${text.slice(0, 200)}` };
  try {
    const answer = JSON.parse(text) as { errcode?: unknown; errmsg?: unknown };
    return classifyRobotAnswer(Number(answer.errcode ?? 0), String(answer.errmsg ?? ''));
  } catch {
    return { kind: 'unreachable', message: `robot endpoint answered something that is not JSON: ${text.slice(0, 200)}` };
  }
}
